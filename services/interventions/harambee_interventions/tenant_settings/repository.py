"""Every query about a tenant's intervention-tracking settings and their history."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_interventions.models import SettingChange, TenantSettings

NEWEST_FIRST = Keyset(columns=(SettingChange.changed_at, SettingChange.id), types=(datetime, uuid.UUID),
                      descending=True)


def get_settings(*, session: Session) -> TenantSettings | None:
    """The tenant's settings row, if it has changed the defaults."""
    return session.scalar(sa.select(TenantSettings))


def put_settings(*, session: Session, row: TenantSettings) -> None:
    """Replaces the tenant's settings."""
    values = {c: getattr(row, c) for c in ("tenant_id", "stall_days", "review_interval_months", "follow_up_months",
                                             "updated_at", "updated_by")}
    session.execute(insert(TenantSettings).values(**values).on_conflict_do_update(
        index_elements=[TenantSettings.tenant_id], set_={k: v for k, v in values.items() if k != "tenant_id"}))


def add_change(*, session: Session, change: SettingChange) -> None:
    """Records a change to the settings or the catalogue."""
    session.add(change)
    session.flush()


def list_changes(*, session: Session, kind: str | None, name: str | None, cursor: str | None,
                 limit: int) -> Slice[SettingChange]:
    """A page of the tenant's changes, newest first, of one kind or name if asked."""
    query = sa.select(SettingChange)
    if kind is not None:
        query = query.where(SettingChange.kind == kind)
    if name is not None:
        query = query.where(SettingChange.name == name)
    return paginate(session, query, keyset=NEWEST_FIRST, cursor=cursor, limit=limit)
