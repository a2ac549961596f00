"""Every write to the read model: one upsert per event, of the columns that event knows."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_monitoring.models import CaseFact, Reassessment, ReferralFact

# How a column already held meets the value an event brings: the first one is kept (the first approved
# assessment, the first decision), the earliest (first session), or the event's replaces it (the rest).
FIRST = "first"
EARLIEST = "earliest"


def _upsert(session: Session, model: type[Any], key: str, values: dict[str, Any], keep: dict[str, str]) -> None:
    table = model.__table__
    statement = insert(table).values(**values)
    changes: dict[str, Any] = {}
    for name in values:
        if name in (key, "tenant_id"):
            continue
        new, held = statement.excluded[name], table.c[name]
        rule = keep.get(name)
        changes[name] = (sa.func.coalesce(held, new) if rule == FIRST
                         else sa.func.least(held, new) if rule == EARLIEST else new)
    session.execute(statement.on_conflict_do_update(index_elements=[key], set_=changes))


def record_referral(*, session: Session, tenant: str, referral_id: uuid.UUID, **values: Any) -> None:
    """Sets a referral's columns, creating its row if this is the first event about it."""
    _upsert(session, ReferralFact, "referral_id", {"referral_id": referral_id, "tenant_id": tenant, **values}, {})


def record_case(*, session: Session, tenant: str, case_id: uuid.UUID, keep: dict[str, str] | None = None,
                **values: Any) -> None:
    """Sets a case's columns (`keep` says which keep their first or earliest value)."""
    _upsert(session, CaseFact, "case_id", {"case_id": case_id, "tenant_id": tenant, **values}, keep or {})


def add_reassessment(*, session: Session, tenant: str, **values: Any) -> None:
    """Remembers a reassessment's item changes (once per assessment)."""
    session.execute(insert(Reassessment).values(tenant_id=tenant, **values)
                    .on_conflict_do_nothing(index_elements=["assessment_id"]))
