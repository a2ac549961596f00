"""How a tenant runs assessments and its panel: four eyes on approval (default on) and the panel's quorum
in distinct agencies (default 3). A tenant without a row has the defaults.

Every change is kept (`assessment_settings_changes`: the values before and after, who and when) and
published with the values it replaced, so the rule in force when an assessment was approved can be
answered afterwards — four eyes can be turned off, and that must not pass unseen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from harambee_assessment.events import EVENTS
from harambee_assessment.models import AssessmentSettings, AssessmentSettingsChange
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.assessment import AssessmentSettingsChanged
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Keyset, Page, Slice, paginate

DEFAULT_FOUR_EYES = True
DEFAULT_QUORUM = 3


class SettingsView(BaseModel):
    """A tenant's assessment and panel settings."""

    four_eyes: bool = Field(description="Whether an assessment's approver must not be one of its authors.")
    panel_quorum: int = Field(ge=1, le=50, description="Distinct agencies that must attend for a panel decision.")


class SettingsChange(SettingsView):
    """New settings (both given)."""

    model_config = ConfigDict(extra="forbid")


class SettingsChangeView(BaseModel):
    """One change to the tenant's settings: the values it replaced, the new ones, who and when."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    four_eyes: bool
    panel_quorum: int
    previous_four_eyes: bool
    previous_panel_quorum: int
    changed_by: str
    changed_at: datetime


class SettingsChangePage(Page[SettingsChangeView]):
    """One page of the tenant's setting changes, newest first."""


@dataclass(frozen=True)
class Settings:
    """The settings in force."""

    four_eyes: bool
    panel_quorum: int


def current(*, uow: UnitOfWork) -> Settings:
    """The tenant's settings, or the defaults."""
    row = uow.session.get(AssessmentSettings, uow.tenant)
    if row is None:
        return Settings(four_eyes=DEFAULT_FOUR_EYES, panel_quorum=DEFAULT_QUORUM)
    return Settings(four_eyes=row.four_eyes, panel_quorum=row.panel_quorum)


def change(*, uow: UnitOfWork, principal: TenantPrincipal, four_eyes: bool, panel_quorum: int,
           now: datetime) -> Settings:
    """Sets the tenant's settings, keeps the change and publishes it with the values it replaced."""
    row = uow.session.scalar(sa.select(AssessmentSettings).with_for_update())
    if row is None:
        row = AssessmentSettings(tenant_id=uow.tenant, four_eyes=DEFAULT_FOUR_EYES, panel_quorum=DEFAULT_QUORUM)
        uow.session.add(row)
    change = AssessmentSettingsChange(
        id=uuid.uuid4(), tenant_id=uow.tenant, four_eyes=four_eyes, panel_quorum=panel_quorum,
        previous_four_eyes=row.four_eyes, previous_panel_quorum=row.panel_quorum, changed_by=principal.actor,
        changed_at=now)
    uow.session.add(change)
    row.four_eyes, row.panel_quorum, row.updated_at, row.updated_by = four_eyes, panel_quorum, now, principal.actor
    EVENTS.publish(uow, AssessmentSettingsChanged(
        change_id=change.id, four_eyes=four_eyes, panel_quorum=panel_quorum,
        previous_four_eyes=change.previous_four_eyes, previous_panel_quorum=change.previous_panel_quorum,
        actor=principal.actor), subject=f"tenant/{uow.tenant}")
    return Settings(four_eyes=four_eyes, panel_quorum=panel_quorum)


NEWEST_FIRST = Keyset(columns=(AssessmentSettingsChange.changed_at, AssessmentSettingsChange.id),
                      types=(datetime, uuid.UUID), descending=True)


def changes(*, uow: UnitOfWork, cursor: str | None, limit: int) -> Slice[AssessmentSettingsChange]:
    """A page of the tenant's setting changes, newest first."""
    return paginate(uow.session, sa.select(AssessmentSettingsChange), keyset=NEWEST_FIRST, cursor=cursor,
                    limit=limit)
