"""Information requests' routes: county staff ask; the agency's own system lists and answers what it was asked."""

from __future__ import annotations

import uuid

from fastapi import status

from harambee_assessment import sharing
from harambee_assessment.auth import NOT_FOUND, CasesRead, CasesWrite, InformationRequestsInbox
from harambee_assessment.dependencies import NowDep
from harambee_assessment.information_requests import service
from harambee_assessment.information_requests.schemas import (
    AddressedPage,
    AddressedRequest,
    AnswerIn,
    InformationRequestIn,
    InformationRequestPage,
    InformationRequestView,
)
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router

router = tenant_router(tags=["information requests"],
                       responses=problem_responses(401, 403, 404, 422, meanings=NOT_FOUND))
REFUSED = problem_responses(403, 409, meanings={
    403: "No agreement in force lets the organisation receive this request, or it requires the person's consent "
         "naming the organisation and none is recorded (`consent-required`); the refusal is recorded.",
    409: "The case is no longer being worked."})


@router.post("/cases/{case_id}/information-requests", response_model=InformationRequestView,
             status_code=status.HTTP_201_CREATED, responses=REFUSED)
def send_request(case_id: uuid.UUID, body: InformationRequestIn, principal: CasesWrite, uow: UnitOfWorkDep,
                 now: NowDep) -> InformationRequestView:
    """Asks another agency whether it shares the concern and what it knows, under a data-sharing agreement."""
    return service.send(uow=uow, principal=principal, case_id=case_id, body=body, now=now)


@router.get("/cases/{case_id}/information-requests", response_model=InformationRequestPage)
def case_requests(case_id: uuid.UUID, principal: CasesRead, uow: UnitOfWorkDep, now: NowDep, limit: Limit = 50,
                  cursor: Cursor = None) -> InformationRequestPage:
    """The case's requests and the agencies' answers, newest first."""
    page = service.of_case(uow=uow, principal=principal, case_id=case_id, today=now.date(), cursor=cursor,
                           limit=limit)
    return InformationRequestPage(items=page.rows, next_cursor=page.next_cursor)


@router.get("/information-requests", response_model=InformationRequestPage)
def list_requests(principal: CasesRead, uow: UnitOfWorkDep, now: NowDep, overdue: bool = False, limit: Limit = 50,
                  cursor: Cursor = None) -> InformationRequestPage:
    """The tenant's requests by due date; `overdue=true`: those still unanswered after their due date."""
    today = now.date()
    page = service.listed(uow=uow, principal=principal, overdue_on=today if overdue else None, cursor=cursor,
                          limit=limit)
    return InformationRequestPage(items=[service.staff_view(r, today=today) for r in page.rows],
                                  next_cursor=page.next_cursor)


@router.get("/information-requests/addressed", response_model=AddressedPage)
def addressed_requests(principal: InformationRequestsInbox, uow: UnitOfWorkDep, now: NowDep, overdue: bool = False,
                       limit: Limit = 50, cursor: Cursor = None) -> AddressedPage:
    """For an agency's system: the requests addressed to your organisation, by due date (`overdue=true`: late),
    each with the fields your agreement names."""
    page = service.inbox(uow=uow, principal=principal, overdue_on=now.date() if overdue else None, cursor=cursor,
                         limit=limit, now=now)
    return AddressedPage(items=page.rows, next_cursor=page.next_cursor)


@router.get("/information-requests/addressed/{request_id}", response_model=AddressedRequest,
            responses=problem_responses(403, meanings={403: sharing.REFUSED}))
def addressed_request(request_id: uuid.UUID, principal: InformationRequestsInbox, uow: UnitOfWorkDep,
                      now: NowDep) -> AddressedRequest:
    """For an agency's system: one request addressed to your organisation, and your answer."""
    return service.addressed(uow=uow, principal=principal, request_id=request_id, now=now)


@router.post("/information-requests/addressed/{request_id}/answer", response_model=AddressedRequest,
             responses=problem_responses(409, meanings={
                 409: "The request has been answered already, or the person withdrew consent."}))
def answer_request(request_id: uuid.UUID, body: AnswerIn, principal: InformationRequestsInbox, uow: UnitOfWorkDep,
                   now: NowDep) -> AddressedRequest:
    """For an agency's system: answers a request addressed to your organisation (once)."""
    return service.answer(uow=uow, principal=principal, request_id=request_id, body=body, now=now)
