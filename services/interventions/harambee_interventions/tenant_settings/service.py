"""A tenant's intervention-tracking settings: the defaults until it sets its own."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.interventions import InterventionSettings
from harambee_common.db import UnitOfWork
from harambee_interventions.models import TenantSettings
from harambee_interventions.tenant_settings import history, repository


@dataclass(frozen=True)
class Settings:
    """The settings in force in one tenant."""

    stall_days: int = 21
    review_interval_months: int = 3
    follow_up_months: tuple[int, ...] = (6, 12)
    updated_at: datetime | None = None

    @property
    def values(self) -> InterventionSettings:
        """The settings as events and the history carry them."""
        return InterventionSettings(stall_days=self.stall_days, review_interval_months=self.review_interval_months,
                                    follow_up_months=list(self.follow_up_months))

    def next_review(self, after: date) -> date:
        """The review due one interval after a day."""
        return add_months(after, self.review_interval_months)

    def follow_ups(self, closed_on: date) -> list[tuple[int, date]]:
        """The follow-ups due after a closure: months after it, and the day."""
        return [(m, add_months(closed_on, m)) for m in self.follow_up_months]


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (the month's last day where it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def in_force(*, uow: UnitOfWork) -> Settings:
    """The tenant's settings, or the defaults."""
    row = repository.get_settings(session=uow.session)
    if row is None:
        return Settings()
    return Settings(row.stall_days, row.review_interval_months, tuple(row.follow_up_months), row.updated_at)


def replace(*, uow: UnitOfWork, principal: TenantPrincipal, stall_days: int, review_interval_months: int,
            follow_up_months: list[int], at: datetime) -> Settings:
    """Sets the tenant's settings (they apply from the next check, review and closure); the change is kept and
    published with the settings it replaced (`history`)."""
    previous = in_force(uow=uow)
    repository.put_settings(session=uow.session, row=TenantSettings(
        tenant_id=uow.tenant, stall_days=stall_days, review_interval_months=review_interval_months,
        follow_up_months=follow_up_months, updated_at=at, updated_by=principal.actor,
    ))
    current = Settings(stall_days, review_interval_months, tuple(follow_up_months), at)
    history.settings_changed(uow=uow, principal=principal, previous=previous.values, value=current.values, at=at)
    return current
