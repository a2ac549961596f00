"""The history of a tenant's intervention settings and catalogue: every change, with the value it replaced.

A change is kept here in full (who, when, the value before and after) and published: the settings as
`intervention_settings.changed` with the settings in force before (the defaults while the tenant had set
none), a catalogue type as `intervention_type.changed` with whether it was in use before (its wording, the
label and description, stays here). So the stall threshold or the review interval in force on any day can
be answered afterwards (`GET .../settings/history`), and audit sees each change happen.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.interventions import (
    InterventionSettings,
    InterventionSettingsChanged,
    InterventionTypeChanged,
)
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_interventions.events import EVENTS
from harambee_interventions.models import SettingChange
from harambee_interventions.tenant_settings import repository

Kind = Literal["settings", "intervention_type"]
SETTINGS = "intervention-settings"


def settings_changed(*, uow: UnitOfWork, principal: TenantPrincipal, previous: InterventionSettings,
                     value: InterventionSettings, at: datetime) -> SettingChange:
    """Records a change of the tenant's settings and publishes it."""
    change = _record(uow=uow, principal=principal, kind="settings", name=SETTINGS, previous=previous.model_dump(),
                     value=value.model_dump(), at=at)
    EVENTS.publish(uow, InterventionSettingsChanged(
        change_id=change.id, stall_days=value.stall_days, review_interval_months=value.review_interval_months,
        follow_up_months=value.follow_up_months, previous=previous, actor=principal.actor), subject=SETTINGS)
    return change


def type_changed(*, uow: UnitOfWork, principal: TenantPrincipal, code: str, previous: dict[str, Any] | None,
                 value: dict[str, Any], at: datetime) -> SettingChange:
    """Records a change of a catalogue type (`label`, `description`, `active`) and publishes it, without the wording."""
    change = _record(uow=uow, principal=principal, kind="intervention_type", name=code, previous=previous,
                     value=value, at=at)
    EVENTS.publish(uow, InterventionTypeChanged(
        change_id=change.id, code=code, active=value["active"],
        previous_active=None if previous is None else previous["active"], actor=principal.actor,
    ), subject=f"intervention-type/{code}")
    return change


def changes(*, uow: UnitOfWork, kind: Kind | None, name: str | None, cursor: str | None,
            limit: int) -> Slice[SettingChange]:
    """A page of the tenant's changes to its settings and catalogue, newest first."""
    return repository.list_changes(session=uow.session, kind=kind, name=name, cursor=cursor, limit=limit)


def _record(*, uow: UnitOfWork, principal: TenantPrincipal, kind: Kind, name: str, previous: dict[str, Any] | None,
            value: dict[str, Any], at: datetime) -> SettingChange:
    change = SettingChange(id=uuid.uuid4(), tenant_id=uow.tenant, kind=kind, name=name, previous=previous,
                           value=value, changed_by=principal.actor, changed_at=at)
    repository.add_change(session=uow.session, change=change)
    return change
