"""The panel's routes: meetings, their agendas, and decisions."""

from __future__ import annotations

import uuid

from fastapi import status

from harambee_assessment.auth import NOT_FOUND, CasesRead, PanelRead, PanelWrite
from harambee_assessment.dependencies import NowDep
from harambee_assessment.panel import service
from harambee_assessment.panel.schemas import (
    AgendaAddition,
    AgendaPage,
    DecisionIn,
    DecisionPage,
    DecisionView,
    MeetingIn,
    MeetingPage,
    MeetingView,
)
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router

router = tenant_router(tags=["panel"], responses=problem_responses(401, 403, 404, 422, meanings=NOT_FOUND))


@router.post("/panel-meetings", response_model=MeetingView, status_code=status.HTTP_201_CREATED)
def schedule_meeting(body: MeetingIn, principal: PanelWrite, uow: UnitOfWorkDep, now: NowDep) -> MeetingView:
    """Schedules a panel meeting: date, chair, attendees (person and agency) and the agenda's cases."""
    return service.schedule(uow=uow, principal=principal, body=body, now=now)


@router.get("/panel-meetings", response_model=MeetingPage)
def list_meetings(principal: PanelRead, uow: UnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None) -> MeetingPage:
    """Meetings, latest first: a panel member sees those they attend."""
    page = service.meetings(uow=uow, principal=principal, cursor=cursor, limit=limit)
    return MeetingPage(items=page.rows, next_cursor=page.next_cursor)


@router.get("/panel-meetings/{meeting_id}", response_model=MeetingView)
def get_meeting(meeting_id: uuid.UUID, principal: PanelRead, uow: UnitOfWorkDep) -> MeetingView:
    """One meeting, and whether it is quorate."""
    return service.meeting(uow=uow, principal=principal, meeting_id=meeting_id)


@router.post("/panel-meetings/{meeting_id}/agenda", response_model=MeetingView)
def add_to_agenda(meeting_id: uuid.UUID, body: AgendaAddition, principal: PanelWrite, uow: UnitOfWorkDep,
                  now: NowDep) -> MeetingView:
    """Puts one more case on the agenda."""
    return service.add_to_agenda(uow=uow, principal=principal, meeting_id=meeting_id, case_id=body.case_id, now=now)


@router.get("/panel-meetings/{meeting_id}/agenda", response_model=AgendaPage)
def agenda(meeting_id: uuid.UUID, principal: PanelRead, uow: UnitOfWorkDep, limit: Limit = 50,
           cursor: Cursor = None) -> AgendaPage:
    """The agenda: each case with its approved assessment (no score: structured judgement) and any decision."""
    page = service.agenda(uow=uow, principal=principal, meeting_id=meeting_id, cursor=cursor, limit=limit)
    return AgendaPage(items=page.rows, next_cursor=page.next_cursor)


@router.post("/panel-meetings/{meeting_id}/decisions", response_model=DecisionView,
             status_code=status.HTTP_201_CREATED,
             responses=problem_responses(409, meanings={
                 409: "Not quorate, no approved assessment, decided already, or the case is no longer worked."}))
def decide(meeting_id: uuid.UUID, body: DecisionIn, principal: PanelWrite, uow: UnitOfWorkDep,
           now: NowDep) -> DecisionView:
    """Records the panel's decision on a case of the agenda: adopt, decline, signpost or escalate, with reasons."""
    return service.decide(uow=uow, principal=principal, meeting_id=meeting_id, body=body, now=now)


@router.get("/cases/{case_id}/decisions", response_model=DecisionPage)
def case_decisions(case_id: uuid.UUID, principal: CasesRead, uow: UnitOfWorkDep, limit: Limit = 50,
                   cursor: Cursor = None) -> DecisionPage:
    """The panel's decisions on a case, newest first."""
    page = service.decisions_of_case(uow=uow, principal=principal, case_id=case_id, cursor=cursor, limit=limit)
    return DecisionPage(items=[DecisionView.model_validate(d) for d in page.rows], next_cursor=page.next_cursor)
