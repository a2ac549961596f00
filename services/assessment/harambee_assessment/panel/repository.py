"""Every query about panel meetings, agendas and decisions."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_assessment.models import AgendaItem, Case, PanelDecision, PanelMeeting, PanelMember
from harambee_common.pagination import Keyset, Slice, paginate

MEETINGS = Keyset(columns=(PanelMeeting.held_on, PanelMeeting.id), types=(date, uuid.UUID), descending=True)
AGENDA = Keyset(columns=(AgendaItem.added_at, AgendaItem.case_id), types=(datetime, uuid.UUID))
DECISIONS = Keyset(columns=(PanelDecision.decided_at, PanelDecision.id), types=(datetime, uuid.UUID), descending=True)


def add(*, session: Session, row: PanelMeeting | PanelMember | PanelDecision) -> None:
    """Stores a new meeting, attendance or decision."""
    session.add(row)
    session.flush()


def add_to_agenda_once(*, session: Session, item: AgendaItem) -> None:
    """Puts a case on a meeting's agenda unless it is there already."""
    session.execute(insert(AgendaItem).values(tenant_id=item.tenant_id, meeting_id=item.meeting_id,
                                              case_id=item.case_id, added_at=item.added_at)
                    .on_conflict_do_nothing())


def get(*, session: Session, meeting_id: uuid.UUID, attended_by: str | None) -> PanelMeeting | None:
    """A meeting of the tenant (one the person attends, if given)."""
    query = sa.select(PanelMeeting).where(PanelMeeting.id == meeting_id)
    if attended_by is not None:
        query = query.where(_attends(attended_by))
    return session.scalar(query)


def meetings(*, session: Session, attended_by: str | None, cursor: str | None, limit: int) -> Slice[PanelMeeting]:
    """A page of meetings, latest first (those the person attends, if given)."""
    query = sa.select(PanelMeeting)
    if attended_by is not None:
        query = query.where(_attends(attended_by))
    return paginate(session, query, keyset=MEETINGS, cursor=cursor, limit=limit)


def agenda(*, session: Session, meeting_id: uuid.UUID, where: sa.ColumnElement[bool], cursor: str | None,
           limit: int) -> Slice[sa.Row]:
    """A page of a meeting's agenda items with their cases (those `where` admits), in the order added."""
    query = (sa.select(AgendaItem.added_at, AgendaItem.case_id, Case)
             .join(Case, Case.id == AgendaItem.case_id)
             .where(AgendaItem.meeting_id == meeting_id, where))
    return paginate(session, query, keyset=AGENDA, cursor=cursor, limit=limit, scalars=False)


def on_agenda(*, session: Session, meeting_id: uuid.UUID, case_id: uuid.UUID) -> bool:
    """Whether the case is on the meeting's agenda."""
    return bool(session.scalar(sa.select(sa.exists().where(AgendaItem.meeting_id == meeting_id,
                                                           AgendaItem.case_id == case_id))))


def decision_of(*, session: Session, meeting_id: uuid.UUID, case_id: uuid.UUID) -> PanelDecision | None:
    """The meeting's decision on a case, if it made one."""
    return session.scalar(sa.select(PanelDecision).where(PanelDecision.meeting_id == meeting_id,
                                                         PanelDecision.case_id == case_id))


def decisions_on(*, session: Session, meeting_id: uuid.UUID, case_ids: list[uuid.UUID]) -> list[PanelDecision]:
    """The meeting's decisions on these cases."""
    if not case_ids:
        return []
    return list(session.scalars(sa.select(PanelDecision).where(PanelDecision.meeting_id == meeting_id,
                                                               PanelDecision.case_id.in_(case_ids))))


def decisions_of_case(*, session: Session, case_id: uuid.UUID, cursor: str | None,
                      limit: int) -> Slice[PanelDecision]:
    """A page of a case's decisions, newest first."""
    return paginate(session, sa.select(PanelDecision).where(PanelDecision.case_id == case_id), keyset=DECISIONS,
                    cursor=cursor, limit=limit)


def latest_decision(*, session: Session, case_id: uuid.UUID) -> PanelDecision | None:
    """The case's latest decision."""
    return session.scalar(sa.select(PanelDecision).where(PanelDecision.case_id == case_id)
                          .order_by(PanelDecision.decided_at.desc()).limit(1))


def _attends(person: str) -> sa.ColumnElement[bool]:
    return sa.exists().where(PanelMember.meeting_id == PanelMeeting.id, PanelMember.person == person)
