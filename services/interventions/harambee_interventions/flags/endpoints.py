"""The flags' routes (county staff): what is stalling, and closing a flag with the action taken."""

from __future__ import annotations

import uuid

from harambee_common.catalogue.interventions import FlagKind
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router
from harambee_interventions.auth import PlansWrite, StaffRead
from harambee_interventions.dependencies import ClockDep
from harambee_interventions.flags import service
from harambee_interventions.flags.schemas import FlagCloseIn, FlagPage, FlagStatus, FlagView

router = tenant_router(tags=["flags"], responses=problem_responses(401, 403, 404, 422))


@router.get("/flags", response_model=FlagPage)
def list_flags(
    principal: StaffRead, uow: UnitOfWorkDep, status: FlagStatus = "open", kind: FlagKind | None = None,
    case_id: uuid.UUID | None = None, limit: Limit = 50, cursor: Cursor = None,
) -> FlagPage:
    """The tenant's flags, newest first: open ones by default."""
    found = service.page(uow=uow, principal=principal, status=status, kind=kind, case_id=case_id, cursor=cursor,
                         limit=limit)
    return FlagPage(items=[FlagView.model_validate(f) for f in found.rows], next_cursor=found.next_cursor)


@router.post("/flags/{flag_id}/close", response_model=FlagView, responses=problem_responses(409))
def close_flag(
    flag_id: uuid.UUID, body: FlagCloseIn, principal: PlansWrite, uow: UnitOfWorkDep, clock: ClockDep,
) -> FlagView:
    """Closes a flag with the action taken and a short note."""
    flag = service.close(uow=uow, principal=principal, flag_id=flag_id, action=body.action, note=body.note,
                         at=clock.now())
    return FlagView.model_validate(flag)
