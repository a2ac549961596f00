"""Assessments' routes: a case's assessments, their contributions, submission and approval."""

from __future__ import annotations

import uuid

from fastapi import status

from harambee_assessment.assessments import service
from harambee_assessment.assessments.schemas import (
    AssessmentPage,
    AssessmentStart,
    AssessmentView,
    ContributionIn,
    Return,
    Submission,
)
from harambee_assessment.auth import NOT_FOUND, CaseManagement, CasesRead, CasesWrite
from harambee_assessment.dependencies import NowDep
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router

router = tenant_router(tags=["assessments"], responses=problem_responses(401, 403, 404, 422, meanings=NOT_FOUND))
STATE = problem_responses(409, meanings={409: "Not possible in the assessment's or the case's current state."})


@router.post("/cases/{case_id}/assessments", response_model=AssessmentView, status_code=status.HTTP_201_CREATED,
             responses=STATE)
def start_assessment(case_id: uuid.UUID, body: AssessmentStart, principal: CasesWrite, uow: UnitOfWorkDep,
                     now: NowDep) -> AssessmentView:
    """Starts a draft assessment of the case with a published framework version of this tenant.

    Another tenant's or an unknown framework is a 422. The assessment keeps its framework version for life.
    """
    return service.start(uow=uow, principal=principal, case_id=case_id, framework_id=body.framework_id,
                         framework_version=body.framework_version, now=now)


@router.get("/cases/{case_id}/assessments", response_model=AssessmentPage)
def assessment_history(case_id: uuid.UUID, principal: CasesRead, uow: UnitOfWorkDep, limit: Limit = 20,
                       cursor: Cursor = None) -> AssessmentPage:
    """The case's assessments, newest first, each with what changed since the one before."""
    page = service.history(uow=uow, principal=principal, case_id=case_id, cursor=cursor, limit=limit)
    return AssessmentPage(items=page.rows, next_cursor=page.next_cursor)


@router.get("/assessments/{assessment_id}", response_model=AssessmentView)
def get_assessment(assessment_id: uuid.UUID, principal: CasesRead, uow: UnitOfWorkDep) -> AssessmentView:
    """One assessment: ratings (structured judgement, no score), contributions, conclusion and change."""
    return service.read(uow=uow, principal=principal, assessment_id=assessment_id)


@router.post("/assessments/{assessment_id}/contributions", response_model=AssessmentView,
             status_code=status.HTTP_201_CREATED, responses=STATE)
def contribute(assessment_id: uuid.UUID, body: ContributionIn, principal: CasesWrite, uow: UnitOfWorkDep,
               now: NowDep) -> AssessmentView:
    """Adds your attributed ratings and observations to a draft.

    An item the framework version does not have, or a rating outside the item's scale, is a 422 naming the item.
    """
    return service.contribute(uow=uow, principal=principal, assessment_id=assessment_id, ratings=body.ratings,
                              note=body.note, now=now)


@router.post("/assessments/{assessment_id}/submit", response_model=AssessmentView, responses=STATE)
def submit(assessment_id: uuid.UUID, body: Submission, principal: CasesWrite, uow: UnitOfWorkDep,
           now: NowDep) -> AssessmentView:
    """Submits a draft with its summary conclusion, needs (needs-screen codes) and management plan."""
    return service.submit(uow=uow, principal=principal, assessment_id=assessment_id, summary=body.summary,
                          needs=body.needs, management_plan=body.management_plan, now=now)


@router.post("/assessments/{assessment_id}/approve", response_model=AssessmentView,
             responses={**STATE, **problem_responses(403, meanings={
                 403: "Not permitted; or (four-eyes) you are one of the assessment's authors."})})
def approve(assessment_id: uuid.UUID, principal: CaseManagement, uow: UnitOfWorkDep, now: NowDep) -> AssessmentView:
    """Approves a submitted assessment; where the tenant asks for four eyes, not by one of its authors."""
    return service.approve(uow=uow, principal=principal, assessment_id=assessment_id, now=now)


@router.post("/assessments/{assessment_id}/return", response_model=AssessmentView, responses=STATE)
def send_back(assessment_id: uuid.UUID, body: Return, principal: CaseManagement, uow: UnitOfWorkDep) -> AssessmentView:
    """Returns a submitted assessment to its authors as a draft, with the reviewer's reason."""
    return service.send_back(uow=uow, principal=principal, assessment_id=assessment_id, reason=body.reason)
