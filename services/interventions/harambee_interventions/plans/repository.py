"""Every query about plans, their versions, tasks (as the plan holds them) and reviews."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_interventions.models import Plan, PlanVersion, Review, SessionRecord, Task

VERSIONS = Keyset(columns=(PlanVersion.version,), types=(int,), descending=True)
SESSIONS = Keyset(columns=(SessionRecord.recorded_at, SessionRecord.session_id), types=(datetime, uuid.UUID),
                  descending=True)
REVIEWS = Keyset(columns=(Review.recorded_at, Review.review_id), types=(datetime, uuid.UUID), descending=True)


def add(*, session: Session, row: object) -> None:
    """Adds a new row (a plan, version, task, review or follow-up) to the transaction."""
    session.add(row)
    session.flush()


def plan_of_case(*, session: Session, case_id: uuid.UUID, for_update: bool = False) -> Plan | None:
    """A case's plan, locked for a change when asked (one change of a plan at a time)."""
    query = sa.select(Plan).where(Plan.case_id == case_id)
    return session.scalar(query.with_for_update() if for_update else query)


def tasks_of_plan(*, session: Session, plan_id: uuid.UUID, open_only: bool = False) -> list[Task]:
    """A plan's tasks, oldest first; those made together in the order they were given in."""
    query = sa.select(Task).where(Task.plan_id == plan_id)
    if open_only:
        query = query.where(Task.status == "open")
    return list(session.scalars(query.order_by(Task.created_at, Task.position, Task.task_id)))


def list_versions(*, session: Session, plan_id: uuid.UUID, cursor: str | None, limit: int) -> Slice[PlanVersion]:
    """A page of a plan's versions, newest first."""
    return paginate(session, sa.select(PlanVersion).where(PlanVersion.plan_id == plan_id), keyset=VERSIONS,
                    cursor=cursor, limit=limit)


def list_reviews(*, session: Session, plan_id: uuid.UUID, cursor: str | None, limit: int) -> Slice[Review]:
    """A page of a plan's reviews, newest first."""
    return paginate(session, sa.select(Review).where(Review.plan_id == plan_id), keyset=REVIEWS,
                    cursor=cursor, limit=limit)


def versions_of(*, session: Session, plan_id: uuid.UUID) -> list[PlanVersion]:
    """Every version of a plan, oldest first."""
    return list(session.scalars(sa.select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                                .order_by(PlanVersion.version)))


def delete_plan(*, session: Session, plan_id: uuid.UUID) -> None:
    """Removes a plan and everything hanging on it (versions, tasks, sessions, reviews, follow-ups cascade)."""
    session.execute(sa.delete(Plan).where(Plan.plan_id == plan_id))


def list_sessions(*, session: Session, plan_id: uuid.UUID, cursor: str | None, limit: int) -> Slice[SessionRecord]:
    """A page of the sessions recorded on a plan's tasks, newest first."""
    query = sa.select(SessionRecord).join(Task, Task.task_id == SessionRecord.task_id).where(Task.plan_id == plan_id)
    return paginate(session, query, keyset=SESSIONS, cursor=cursor, limit=limit)
