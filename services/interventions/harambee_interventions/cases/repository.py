"""Every query about known cases."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_interventions.models import FollowUp, KnownCase, Plan, ProgressUpdate, SessionRecord, Task

# Known cases page newest first; the case id breaks ties between cases opened at the same instant.
KNOWN_CASES = Keyset(columns=(KnownCase.opened_at, KnownCase.case_id), types=(datetime, uuid.UUID), descending=True)


def add_known_case(*, session: Session, case: KnownCase) -> None:
    """Records a case, once."""
    session.execute(
        insert(KnownCase)
        .values(case_id=case.case_id, tenant_id=case.tenant_id, subject_ref=case.subject_ref,
                opened_at=case.opened_at, needs=case.needs or [], consent_id=case.consent_id,
                assessment_id=case.assessment_id, consented_at=case.consented_at, withdrawn_at=case.withdrawn_at)
        .on_conflict_do_nothing(index_elements=[KnownCase.case_id])
    )


def get_known_case(*, session: Session, case_id: uuid.UUID, for_update: bool = False) -> KnownCase | None:
    """One known case of the transaction's tenant."""
    query = sa.select(KnownCase).where(KnownCase.case_id == case_id)
    return session.scalar(query.with_for_update() if for_update else query)


def cases_with_consent(*, session: Session, consent_id: uuid.UUID) -> list[KnownCase]:
    """The known cases whose support rests on one consent."""
    return list(session.scalars(sa.select(KnownCase).where(KnownCase.consent_id == consent_id)))


def remove_known_case(*, session: Session, case_id: uuid.UUID) -> KnownCase | None:
    """Forgets a case (it now belongs to another tenant); returns it as it was, if it was known."""
    return session.scalar(sa.delete(KnownCase).where(KnownCase.case_id == case_id).returning(KnownCase))


def list_known_cases(*, session: Session, cursor: str | None, limit: int) -> Slice[KnownCase]:
    """A page of known cases, newest first, after the cursor's position."""
    return paginate(session, sa.select(KnownCase), keyset=KNOWN_CASES, cursor=cursor, limit=limit)


def known_cases_of_subject(*, session: Session, subject_ref: uuid.UUID) -> list[KnownCase]:
    """Every known case about one subject, oldest first."""
    return list(session.scalars(
        sa.select(KnownCase).where(KnownCase.subject_ref == subject_ref).order_by(KnownCase.opened_at)
    ))


def held_about_subject(*, session: Session, subject_ref: uuid.UUID) -> tuple[list, list, list, list, list]:
    """The person's plans, tasks, sessions, progress updates and follow-ups, oldest first."""
    plans = list(session.scalars(sa.select(Plan).where(Plan.subject_ref == subject_ref).order_by(Plan.created_at)))
    tasks = list(session.scalars(sa.select(Task).where(Task.subject_ref == subject_ref).order_by(Task.created_at)))
    task_ids = [t.task_id for t in tasks]
    sessions = list(session.scalars(sa.select(SessionRecord).where(SessionRecord.task_id.in_(task_ids))
                                    .order_by(SessionRecord.held_on)))
    progress = list(session.scalars(sa.select(ProgressUpdate).where(ProgressUpdate.task_id.in_(task_ids))
                                    .order_by(ProgressUpdate.recorded_at)))
    follow_ups = list(session.scalars(sa.select(FollowUp).where(FollowUp.subject_ref == subject_ref)
                                      .order_by(FollowUp.due_on)))
    return plans, tasks, sessions, progress, follow_ups
