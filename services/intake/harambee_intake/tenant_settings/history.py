"""The history of a tenant's settings and coded lists: every change, with the value it replaced.

A change is kept here in full (who, when, the value before and after) and published: a setting as
`tenant_setting.changed`, with both values but without the escalation contact's free-text instructions; a
coded list as `vocabulary.replaced`, with its codes but not its labels. So the escalation contact or the
retention periods in force on any day can be answered afterwards, and audit sees each change happen.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.intake import TenantSettingChanged, VocabularyReplaced
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_intake.events import EVENTS
from harambee_intake.models import SettingChange
from harambee_intake.tenant_settings import repository

# Free text an officer may write into a setting: kept in the history, not put in events.
FREE_TEXT = {"escalation_contact": ("instructions",)}


def setting_changed(
    *, uow: UnitOfWork, principal: TenantPrincipal, name: Any, version: int, previous: dict[str, Any] | None,
    value: dict[str, Any],
) -> SettingChange:
    """Records a setting's change and publishes it."""
    change = _record(uow, principal, kind="setting", name=name, version=version, previous=previous, value=value)
    EVENTS.publish(uow, TenantSettingChanged(change_id=change.id, name=name, version=version,
                                             previous=_coded(name, previous), value=_coded(name, value) or {},
                                             actor=principal.actor), subject=f"setting:{name}")
    return change


def vocabulary_replaced(
    *, uow: UnitOfWork, principal: TenantPrincipal, name: str, version: int, previous: list[dict[str, Any]],
    entries: list[dict[str, Any]],
) -> SettingChange:
    """Records a coded list's replacement and publishes it."""
    change = _record(uow, principal, kind="vocabulary", name=name, version=version, previous=previous,
                     value=entries)
    EVENTS.publish(uow, VocabularyReplaced(change_id=change.id, name=name, version=version,
                                           previous_codes=[e["code"] for e in previous],
                                           codes=[e["code"] for e in entries], actor=principal.actor),
                   subject=f"vocabulary:{name}")
    return change


def changes(
    *, uow: UnitOfWork, kind: Literal["setting", "vocabulary"] | None, name: str | None, cursor: str | None,
    limit: int,
) -> Slice[SettingChange]:
    """A page of the tenant's setting and list changes, newest first."""
    return repository.list_changes(session=uow.session, kind=kind, name=name, cursor=cursor, limit=limit)


def _record(
    uow: UnitOfWork, principal: TenantPrincipal, *, kind: str, name: str, version: int, previous: Any, value: Any
) -> SettingChange:
    change = SettingChange(id=uuid.uuid4(), tenant_id=uow.tenant, kind=kind, name=name, version=version,
                           previous=previous, value=value, changed_by=principal.actor, changed_at=datetime.now(UTC))
    repository.add_change(session=uow.session, change=change)
    return change


def _coded(name: str, value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {k: v for k, v in value.items() if k not in FREE_TEXT.get(name, ())}
