"""Every query about a tenant's settings."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_intake.models import (
    SettingChange,
    TenantSetting,
)


def get_setting(*, session: Session, name: str) -> TenantSetting | None:
    """The tenant's value of one setting."""
    return session.scalar(sa.select(TenantSetting).where(TenantSetting.name == name))


def put_setting(
    *, session: Session, tenant: str, name: str, value: dict, version: int, by: str, at: datetime
) -> TenantSetting:
    """Stores the tenant's value of one setting."""
    row = get_setting(session=session, name=name)
    if row is None:
        row = TenantSetting(tenant_id=tenant, name=name)
        session.add(row)
    row.value, row.version, row.updated_by, row.updated_at = value, version, by, at
    session.flush()
    return row


def add_change(*, session: Session, change: SettingChange) -> None:
    """Records a change to a setting or coded list."""
    session.add(change)
    session.flush()


NEWEST_FIRST = Keyset(columns=(SettingChange.changed_at, SettingChange.id), types=(datetime, uuid.UUID),
                      descending=True)


def list_changes(
    *, session: Session, kind: str | None, name: str | None, cursor: str | None, limit: int
) -> Slice[SettingChange]:
    """A page of the tenant's setting and list changes, newest first."""
    query = sa.select(SettingChange)
    if kind is not None:
        query = query.where(SettingChange.kind == kind)
    if name is not None:
        query = query.where(SettingChange.name == name)
    return paginate(session, query, keyset=NEWEST_FIRST, cursor=cursor, limit=limit)
