"""Every query a provider's requests make."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_interventions.consents import repository as consents
from harambee_interventions.models import SessionRecord, Task

TASKS = Keyset(columns=(Task.created_at, Task.task_id), types=(datetime, uuid.UUID), descending=True)
SESSIONS = Keyset(columns=(SessionRecord.recorded_at, SessionRecord.session_id), types=(datetime, uuid.UUID),
                  descending=True)


def _owned(query: sa.Select, *, provider_id: uuid.UUID, practitioner_id: uuid.UUID | None) -> sa.Select:
    query = query.where(Task.provider_id == provider_id)
    return query if practitioner_id is None else query.where(Task.practitioner_id == practitioner_id)


def list_tasks(*, session: Session, provider_id: uuid.UUID, practitioner_id: uuid.UUID | None, status: str | None,
               consented_to: str | None, at: datetime, cursor: str | None, limit: int) -> Slice[Task]:
    """A page of a provider's (or one practitioner's) tasks, newest first, of one status if asked.

    With `consented_to`, only the tasks whose person has a consent in force naming that organisation, and
    the stopped ones (which show their status only).
    """
    query = _owned(sa.select(Task), provider_id=provider_id, practitioner_id=practitioner_id)
    if status is not None:
        query = query.where(Task.status == status)
    if consented_to is not None:
        query = query.where(sa.or_(Task.status == "stopped",
                                   consents.naming(consented_to, subject_ref=Task.subject_ref, at=at)))
    return paginate(session, query, keyset=TASKS, cursor=cursor, limit=limit)


def get_task(*, session: Session, task_id: uuid.UUID, provider_id: uuid.UUID, practitioner_id: uuid.UUID | None,
             for_update: bool = False) -> Task | None:
    """One task, if it is the provider's (or the practitioner's)."""
    query = _owned(sa.select(Task).where(Task.task_id == task_id), provider_id=provider_id,
                   practitioner_id=practitioner_id)
    return session.scalar(query.with_for_update() if for_update else query)


def add(*, session: Session, row: object) -> None:
    """Adds a session or progress update."""
    session.add(row)
    session.flush()


def list_sessions(*, session: Session, task_id: uuid.UUID, cursor: str | None, limit: int) -> Slice[SessionRecord]:
    """A page of a task's sessions, newest first."""
    return paginate(session, sa.select(SessionRecord).where(SessionRecord.task_id == task_id), keyset=SESSIONS,
                    cursor=cursor, limit=limit)
