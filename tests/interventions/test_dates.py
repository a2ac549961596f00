"""Review and follow-up dates: months added as a programme counts them (the month's last day where shorter)."""

from __future__ import annotations

from datetime import date

from harambee_interventions.tenant_settings.service import Settings, add_months


def test_months_are_added_calendar_wise():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 6, 30), 12) == date(2027, 6, 30)


def test_the_defaults_review_quarterly_and_follow_up_at_six_and_twelve_months():
    settings = Settings()
    assert settings.stall_days == 21
    assert settings.next_review(date(2026, 12, 3)) == date(2027, 3, 3)
    assert settings.follow_ups(date(2026, 12, 3)) == [(6, date(2027, 6, 3)), (12, date(2027, 12, 3))]
