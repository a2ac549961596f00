"""A screening decision as staff see it."""

from __future__ import annotations

from harambee_intake.screening.schemas import ScreeningView
from harambee_intake.screening.service import Decision


def screening_view(decision: Decision) -> ScreeningView:
    """The decision, with the screener's words opened and the time it took."""
    record, referral = decision.screening, decision.referral
    return ScreeningView(
        referral_id=referral.id, outcome=record.outcome, reason=record.reason,
        service_detail=decision.service_detail, note=decision.note, screened_at=record.decided_at,
        screened_by=record.decided_by, time_to_screen_seconds=referral.screening_seconds or 0,
        handoff=record.handoff,
    )
