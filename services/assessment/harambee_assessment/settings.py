"""How a tenant runs assessments and its panel: four eyes on approval (default on) and the panel's quorum
in distinct agencies (default 3). A tenant without a row has the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from harambee_assessment.events import EVENTS
from harambee_assessment.models import AssessmentSettings
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.assessment import AssessmentSettingsChanged
from harambee_common.db import UnitOfWork

DEFAULT_FOUR_EYES = True
DEFAULT_QUORUM = 3


class SettingsView(BaseModel):
    """A tenant's assessment and panel settings."""

    four_eyes: bool = Field(description="Whether an assessment's approver must not be one of its authors.")
    panel_quorum: int = Field(ge=1, le=50, description="Distinct agencies that must attend for a panel decision.")


class SettingsChange(SettingsView):
    """New settings (both given)."""

    model_config = ConfigDict(extra="forbid")


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
    """Sets the tenant's settings and publishes the change."""
    row = uow.session.scalar(sa.select(AssessmentSettings).with_for_update())
    if row is None:
        row = AssessmentSettings(tenant_id=uow.tenant)
        uow.session.add(row)
    row.four_eyes, row.panel_quorum, row.updated_at, row.updated_by = four_eyes, panel_quorum, now, principal.actor
    EVENTS.publish(uow, AssessmentSettingsChanged(four_eyes=four_eyes, panel_quorum=panel_quorum,
                                                  actor=principal.actor), subject=f"tenant/{uow.tenant}")
    return Settings(four_eyes=four_eyes, panel_quorum=panel_quorum)
