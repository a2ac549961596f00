"""The plans' routes (county staff): the plan, its versions, reviews and closure."""

from __future__ import annotations

import uuid

from fastapi import status

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router
from harambee_interventions.auth import PlansWrite, StaffRead
from harambee_interventions.dependencies import ClockDep
from harambee_interventions.plans import service
from harambee_interventions.plans.schemas import (
    ClosureIn,
    PlanChangeIn,
    PlanIn,
    PlanItemView,
    PlanVersionPage,
    PlanVersionView,
    PlanView,
    ReviewIn,
    ReviewPage,
    ReviewView,
)
from harambee_interventions.tasks.schemas import SessionPage, SessionView

router = tenant_router(tags=["plans"], responses=problem_responses(401, 403, 404, 422))
PLAN = "/cases/{case_id}/plan"


@router.post(PLAN, response_model=PlanView, status_code=status.HTTP_201_CREATED, responses=problem_responses(409))
def create_plan(
    case_id: uuid.UUID, body: PlanIn, principal: PlansWrite, uow: UnitOfWorkDep, clock: ClockDep,
) -> PlanView:
    """Makes the case's plan: only once the case is consented (409 before), each item tied to an assessed need."""
    record = service.create(uow=uow, principal=principal, case_id=case_id, items=body.items,
                            next_review_on=body.next_review_on, at=clock.now())
    return _view(record)


@router.put(PLAN, response_model=PlanView, responses=problem_responses(409))
def change_plan(
    case_id: uuid.UUID, body: PlanChangeIn, principal: PlansWrite, uow: UnitOfWorkDep, clock: ClockDep,
) -> PlanView:
    """Makes a new version of the plan from the version read (409 if it changed since, or is not active)."""
    record = service.change(uow=uow, principal=principal, case_id=case_id, based_on_version=body.based_on_version,
                            items=body.items, at=clock.now())
    return _view(record)


@router.get(PLAN, response_model=PlanView)
def get_plan(case_id: uuid.UUID, principal: StaffRead, uow: UnitOfWorkDep) -> PlanView:
    """The case's plan: the current version's items and how each task is going."""
    return _view(service.read(uow=uow, principal=principal, case_id=case_id))


@router.get(PLAN + "/versions", response_model=PlanVersionPage)
def list_plan_versions(
    case_id: uuid.UUID, principal: StaffRead, uow: UnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None,
) -> PlanVersionPage:
    """Every version of the plan, newest first, as each stood."""
    page = service.versions(uow=uow, principal=principal, case_id=case_id, cursor=cursor, limit=limit)
    return PlanVersionPage(items=[PlanVersionView.model_validate(v) for v in page.rows], next_cursor=page.next_cursor)


@router.get(PLAN + "/sessions", response_model=SessionPage)
def list_plan_sessions(
    case_id: uuid.UUID, principal: StaffRead, uow: UnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None,
) -> SessionPage:
    """The sessions providers recorded on the plan's tasks, newest first, with their notes."""
    page = service.sessions(uow=uow, principal=principal, case_id=case_id, cursor=cursor, limit=limit)
    return SessionPage(items=[SessionView.model_validate(s) for s in page.rows], next_cursor=page.next_cursor)


@router.post(PLAN + "/reviews", response_model=ReviewView, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(409))
def review_plan(
    case_id: uuid.UUID, body: ReviewIn, principal: PlansWrite, uow: UnitOfWorkDep, clock: ClockDep,
) -> ReviewView:
    """Records a review: each open goal met or not, the plan kept or changed (`items`), the next review."""
    record = service.review(uow=uow, principal=principal, case_id=case_id, reviewed_on=body.reviewed_on,
                            goals=body.goals, items=body.items, reassessment_requested=body.reassessment_requested,
                            next_review_on=body.next_review_on, note=body.note, at=clock.now())
    return ReviewView.model_validate(record)


@router.get(PLAN + "/reviews", response_model=ReviewPage)
def list_plan_reviews(
    case_id: uuid.UUID, principal: StaffRead, uow: UnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None,
) -> ReviewPage:
    """The plan's reviews, newest first."""
    page = service.reviews(uow=uow, principal=principal, case_id=case_id, cursor=cursor, limit=limit)
    return ReviewPage(items=[ReviewView.model_validate(r) for r in page.rows], next_cursor=page.next_cursor)


@router.post(PLAN + "/closure", response_model=PlanView, responses=problem_responses(409))
def close_case(
    case_id: uuid.UUID, body: ClosureIn, principal: PlansWrite, uow: UnitOfWorkDep, clock: ClockDep,
) -> PlanView:
    """Closes the case's support with a reason and a closing report; schedules the follow-ups."""
    record = service.close(uow=uow, principal=principal, case_id=case_id, exit_reason=body.exit_reason,
                           closing_report=body.closing_report, at=clock.now())
    return _view(record)


def _view(record: service.PlanRecord) -> PlanView:
    plan = record.plan
    return PlanView(
        plan_id=plan.plan_id, case_id=plan.case_id, subject_ref=plan.subject_ref, version=plan.version,
        status=plan.status, next_review_on=plan.next_review_on, last_reviewed_at=plan.last_reviewed_at,
        exit_reason=plan.exit_reason, closing_report=plan.closing_report, ended_at=plan.ended_at,
        items=[PlanItemView.model_validate(t) for t in record.tasks],
    )
