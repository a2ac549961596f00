"""Every query about a tenant's own coded lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_intake.models import (
    Vocabulary,
)

# Read on every submission to check its codes: plain rows, no ORM identity map to fill.
_VOCABULARIES = sa.select(Vocabulary.name, Vocabulary.entries, Vocabulary.version)


def list_vocabularies(*, session: Session) -> list[sa.Row[tuple[str, list[dict[str, Any]], int]]]:
    """The tenant's own lists: name, entries and version of each."""
    return list(session.execute(_VOCABULARIES))


def get_vocabulary(*, session: Session, name: str) -> Vocabulary | None:
    """The tenant's own list of that name, if it has one."""
    return session.scalar(sa.select(Vocabulary).where(Vocabulary.name == name))


def upsert_vocabulary(
    *, session: Session, tenant: str, name: str, entries: list[dict], version: int, updated_by: str,
    updated_at: datetime,
) -> Vocabulary:
    """Stores the tenant's list of that name at a new version."""
    row = get_vocabulary(session=session, name=name)
    if row is None:
        row = Vocabulary(tenant_id=tenant, name=name)
        session.add(row)
    row.entries, row.version, row.updated_by, row.updated_at = entries, version, updated_by, updated_at
    session.flush()
    return row
