"""Every query assessment makes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_assessment.models import (
    Assessment,
    Case,
    CaseAssignment,
    CaseTransfer,
    InformationRequest,
    PanelDecision,
)
from harambee_common.pagination import Keyset, Slice, paginate

# Lists page newest first; the id breaks ties between rows of the same instant.
CASES = Keyset(columns=(Case.opened_at, Case.id), types=(datetime, uuid.UUID), descending=True)
TRANSFERS = Keyset(columns=(CaseTransfer.proposed_at, CaseTransfer.id), types=(datetime, uuid.UUID), descending=True)


def add_case_once(*, session: Session, case: Case) -> bool:
    """Stores a case unless its referral already has one; returns whether it was stored."""
    stored = session.scalar(
        insert(Case)
        .values(id=case.id, tenant_id=case.tenant_id, subject_ref=case.subject_ref,
                referral_id=case.referral_id, status=case.status, opened_at=case.opened_at,
                referring_organisation=case.referring_organisation)
        .on_conflict_do_nothing(index_elements=[Case.referral_id])
        .returning(Case.id)
    )
    return stored is not None


def add_case(*, session: Session, case: Case) -> None:
    """Stores a new case (one received by transfer: it has no referral here)."""
    session.add(case)


def get_case(*, session: Session, case_id: uuid.UUID, for_update: bool = False,
             where: sa.ColumnElement[bool] | None = None) -> Case | None:
    """Gets a case by its id (among those `where` admits), locked for the transaction when it is to be changed."""
    query = sa.select(Case).where(Case.id == case_id)
    if where is not None:
        query = query.where(where)
    return session.scalar(query.with_for_update() if for_update else query)


def list_cases(*, session: Session, where: sa.ColumnElement[bool], referral_id: uuid.UUID | None,
               cursor: str | None, limit: int) -> Slice[Case]:
    """A page of the cases `where` admits, newest first, optionally the one opened for a referral."""
    query = sa.select(Case).where(where)
    if referral_id is not None:
        query = query.where(Case.referral_id == referral_id)
    return paginate(session, query, keyset=CASES, cursor=cursor, limit=limit)


def count_cases_by_status(*, session: Session) -> list[tuple[str, int]]:
    """Case counts per status."""
    return _count_cases_by(session=session, column=Case.status)


def count_cases_by_month_opened(*, session: Session) -> list[tuple[str, int]]:
    """Case counts per month opened (`YYYY-MM`)."""
    month = sa.func.to_char(sa.func.date_trunc("month", Case.opened_at), "YYYY-MM")
    return _count_cases_by(session=session, column=month)


def _count_cases_by(*, session: Session, column: sa.ColumnElement) -> list[tuple[str, int]]:
    return [(str(key), int(n)) for key, n in session.execute(
        sa.select(column, sa.func.count()).group_by(column).order_by(column)
    )]


def add_transfer_once(*, session: Session, transfer: CaseTransfer) -> bool:
    """Stores one side of a transfer unless the tenant already holds it; returns whether it was stored."""
    values = {c.key: getattr(transfer, c.key) for c in CaseTransfer.__table__.columns}
    stored = session.scalar(
        insert(CaseTransfer).values(**values)
        .on_conflict_do_nothing(index_elements=[CaseTransfer.tenant_id, CaseTransfer.id])
        .returning(CaseTransfer.id)
    )
    return stored is not None


def get_transfer(
    *, session: Session, transfer_id: uuid.UUID, direction: str | None, for_update: bool = False
) -> CaseTransfer | None:
    """The tenant's side of a transfer (in one direction, if given); locked when it is to be decided."""
    query = sa.select(CaseTransfer).where(CaseTransfer.id == transfer_id)
    if direction is not None:
        query = query.where(CaseTransfer.direction == direction)
    return session.scalar(query.with_for_update() if for_update else query)


def has_pending_transfer(*, session: Session, case_id: uuid.UUID) -> bool:
    """Whether a transfer of the case is proposed and not yet decided."""
    return bool(session.scalar(sa.select(sa.exists().where(
        CaseTransfer.case_id == case_id, CaseTransfer.direction == "outgoing", CaseTransfer.status == "proposed",
    ))))


def list_transfers(
    *, session: Session, direction: str | None, status: str | None, cursor: str | None, limit: int
) -> Slice[CaseTransfer]:
    """A page of the tenant's transfers, newest first, optionally in one direction and status."""
    query = sa.select(CaseTransfer)
    if direction is not None:
        query = query.where(CaseTransfer.direction == direction)
    if status is not None:
        query = query.where(CaseTransfer.status == status)
    return paginate(session, query, keyset=TRANSFERS, cursor=cursor, limit=limit)


def cases_of_subject(*, session: Session, subject_ref: uuid.UUID) -> list[Case]:
    """Every case held about one subject, oldest first."""
    return list(session.scalars(sa.select(Case).where(Case.subject_ref == subject_ref).order_by(Case.opened_at)))


def active_cases_of_subject(*, session: Session, subject_ref: uuid.UUID, statuses: tuple[str, ...]) -> list[Case]:
    """The subject's cases in these statuses, locked to be changed."""
    return list(session.scalars(sa.select(Case).where(Case.subject_ref == subject_ref, Case.status.in_(statuses))
                                .order_by(Case.opened_at).with_for_update()))


def add_assignment_once(*, session: Session, assignment: CaseAssignment) -> bool:
    """Assigns an assessor to a case unless they are already; returns whether it was stored."""
    values = {c.key: getattr(assignment, c.key) for c in CaseAssignment.__table__.columns}
    stored = session.scalar(insert(CaseAssignment).values(**values).on_conflict_do_nothing().returning(
        CaseAssignment.case_id))
    return stored is not None


def assessors_of(*, session: Session, case_id: uuid.UUID) -> list[str]:
    """The assessors assigned to a case."""
    return list(session.scalars(sa.select(CaseAssignment.assessor).where(CaseAssignment.case_id == case_id)
                                .order_by(CaseAssignment.assigned_at)))


def asked(*, session: Session, case_id: uuid.UUID, organisation: str) -> bool:
    """Whether the organisation was sent an information request about the case."""
    return bool(session.scalar(sa.select(sa.exists().where(InformationRequest.case_id == case_id,
                                                           InformationRequest.organisation == organisation))))


@dataclass(frozen=True)
class Held:
    """What the service holds about some cases, beyond the cases themselves."""

    assessments: list[Assessment]
    decisions: list[PanelDecision]
    requests: list[InformationRequest]


def held_about(*, session: Session, case_ids: list[uuid.UUID]) -> Held:
    """The assessments, panel decisions and information requests of these cases, oldest first."""
    if not case_ids:
        return Held([], [], [])
    return Held(
        assessments=list(session.scalars(sa.select(Assessment).where(Assessment.case_id.in_(case_ids))
                                         .order_by(Assessment.started_at))),
        decisions=list(session.scalars(sa.select(PanelDecision).where(PanelDecision.case_id.in_(case_ids))
                                       .order_by(PanelDecision.decided_at))),
        requests=list(session.scalars(sa.select(InformationRequest).where(InformationRequest.case_id.in_(case_ids))
                                      .order_by(InformationRequest.requested_at))),
    )
