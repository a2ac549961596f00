"""Every query about flags (the checks' statements are in `checks`)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_interventions.models import Flag

FLAGS = Keyset(columns=(Flag.raised_at, Flag.flag_id), types=(datetime, uuid.UUID), descending=True)


def list_flags(*, session: Session, status: str, kind: str | None, case_id: uuid.UUID | None, cursor: str | None,
               limit: int) -> Slice[Flag]:
    """A page of the tenant's flags, newest first, filtered."""
    query = sa.select(Flag)
    if status == "open":
        query = query.where(Flag.closed_at.is_(None))
    elif status == "closed":
        query = query.where(Flag.closed_at.is_not(None))
    if kind is not None:
        query = query.where(Flag.kind == kind)
    if case_id is not None:
        query = query.where(Flag.case_id == case_id)
    return paginate(session, query, keyset=FLAGS, cursor=cursor, limit=limit)


def get_flag(*, session: Session, flag_id: uuid.UUID) -> Flag | None:
    """One flag, locked for its closure."""
    return session.scalar(sa.select(Flag).where(Flag.flag_id == flag_id).with_for_update())
