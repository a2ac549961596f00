"""Every query about assessments and their contributions."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_assessment.models import Assessment, Contribution
from harambee_common.pagination import Keyset, Slice, paginate

# A case's history pages newest first; assessments_case serves it.
HISTORY = Keyset(columns=(Assessment.started_at, Assessment.id), types=(datetime, uuid.UUID), descending=True)


def add(*, session: Session, row: Assessment | Contribution) -> None:
    """Stores a new assessment or contribution."""
    session.add(row)
    session.flush()


def get(*, session: Session, assessment_id: uuid.UUID, for_update: bool = False) -> Assessment | None:
    """An assessment of the tenant by its id."""
    query = sa.select(Assessment).where(Assessment.id == assessment_id)
    return session.scalar(query.with_for_update() if for_update else query)


def approved_of(*, session: Session, case_id: uuid.UUID) -> Assessment | None:
    """The case's approved assessment (at most one is; earlier ones are superseded)."""
    return session.scalar(sa.select(Assessment).where(Assessment.case_id == case_id, Assessment.status == "approved"))


def in_the_making(*, session: Session, case_id: uuid.UUID) -> Assessment | None:
    """The case's draft or submitted assessment, if any."""
    return session.scalar(sa.select(Assessment).where(Assessment.case_id == case_id,
                                                      Assessment.status.in_(("draft", "submitted"))))


def history(*, session: Session, case_id: uuid.UUID, cursor: str | None, limit: int) -> Slice[Assessment]:
    """A page of a case's assessments, newest first."""
    return paginate(session, sa.select(Assessment).where(Assessment.case_id == case_id), keyset=HISTORY,
                    cursor=cursor, limit=limit)


def contributions_of(*, session: Session, assessment_ids: list[uuid.UUID]) -> list[Contribution]:
    """The contributions to these assessments, oldest first."""
    if not assessment_ids:
        return []
    return list(session.scalars(sa.select(Contribution).where(Contribution.assessment_id.in_(assessment_ids))
                                .order_by(Contribution.contributed_at, Contribution.id)))


def get_many(*, session: Session, assessment_ids: list[uuid.UUID]) -> list[Assessment]:
    """These assessments (those that exist in the tenant)."""
    if not assessment_ids:
        return []
    return list(session.scalars(sa.select(Assessment).where(Assessment.id.in_(assessment_ids))))


def approved_of_cases(*, session: Session, case_ids: list[uuid.UUID]) -> list[Assessment]:
    """The approved assessment of each of these cases that has one."""
    if not case_ids:
        return []
    return list(session.scalars(sa.select(Assessment).where(Assessment.case_id.in_(case_ids),
                                                            Assessment.status == "approved")))
