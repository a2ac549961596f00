"""The follow-ups' routes (county staff)."""

from __future__ import annotations

import uuid

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router
from harambee_interventions.auth import PlansWrite, StaffRead
from harambee_interventions.dependencies import ClockDep
from harambee_interventions.follow_ups import service
from harambee_interventions.follow_ups.schemas import FollowUpIn, FollowUpPage, FollowUpView

router = tenant_router(tags=["follow-ups"], responses=problem_responses(401, 403, 404, 422))


@router.get("/cases/{case_id}/follow-ups", response_model=FollowUpPage)
def list_follow_ups(
    case_id: uuid.UUID, principal: StaffRead, uow: UnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None,
) -> FollowUpPage:
    """A closed case's follow-ups, soonest due first."""
    found = service.page(uow=uow, principal=principal, case_id=case_id, cursor=cursor, limit=limit)
    return FollowUpPage(items=[FollowUpView.model_validate(f) for f in found.rows], next_cursor=found.next_cursor)


@router.put("/cases/{case_id}/follow-ups/{follow_up_id}", response_model=FollowUpView,
            responses=problem_responses(409))
def record_follow_up(
    case_id: uuid.UUID, follow_up_id: uuid.UUID, body: FollowUpIn, principal: PlansWrite, uow: UnitOfWorkDep,
    clock: ClockDep,
) -> FollowUpView:
    """Records how the person is doing at a follow-up, in coded fields (once)."""
    follow_up = service.record(uow=uow, principal=principal, case_id=case_id, follow_up_id=follow_up_id,
                               outcome=body.outcome, in_education_or_work=body.in_education_or_work,
                               re_referred=body.re_referred, at=clock.now())
    return FollowUpView.model_validate(follow_up)
