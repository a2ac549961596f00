"""Every query assessment makes."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_assessment.models import Case


def add_case_once(*, session: Session, case: Case) -> bool:
    """Stores a case unless its referral already has one; returns whether it was stored."""
    stored = session.scalar(
        insert(Case)
        .values(id=case.id, tenant_id=case.tenant_id, subject_ref=case.subject_ref,
                referral_id=case.referral_id, status=case.status, opened_at=case.opened_at)
        .on_conflict_do_nothing(index_elements=[Case.referral_id])
        .returning(Case.id)
    )
    return stored is not None


def get_case(*, session: Session, case_id: uuid.UUID) -> Case | None:
    """Gets a case by its id."""
    return session.get(Case, case_id)


def list_cases(
    *, session: Session, referral_id: uuid.UUID | None, after: tuple[datetime, str] | None, limit: int
) -> list[Case]:
    """A page of cases, newest first, optionally the one opened for a referral."""
    query = sa.select(Case).order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit)
    if referral_id is not None:
        query = query.where(Case.referral_id == referral_id)
    if after is not None:
        at, ident = after
        query = query.where(sa.tuple_(Case.opened_at, Case.id) < (at, uuid.UUID(ident)))
    return list(session.scalars(query))


def count_cases_by(*, session: Session, column: sa.ColumnElement) -> list[tuple[str, int]]:
    """Case counts grouped by one expression."""
    return [(str(key), int(n)) for key, n in session.execute(
        sa.select(column, sa.func.count()).group_by(column).order_by(column)
    )]
