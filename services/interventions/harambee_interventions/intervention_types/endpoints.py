"""The intervention catalogue's routes: reading it, and a tenant editing one type."""

from __future__ import annotations

from harambee_common.db import UnitOfWorkDep
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router
from harambee_interventions.auth import PlansWrite, StaffRead
from harambee_interventions.dependencies import ClockDep
from harambee_interventions.intervention_types import service
from harambee_interventions.intervention_types.schemas import (
    CodePath,
    InterventionTypeIn,
    InterventionTypeList,
    InterventionTypeView,
)

router = tenant_router(tags=["intervention catalogue"], responses=problem_responses(401, 403, 404, 422))


@router.get("/intervention-types", response_model=InterventionTypeList)
def list_intervention_types(_principal: StaffRead, uow: UnitOfWorkDep) -> InterventionTypeList:
    """The tenant's intervention catalogue: the default types with its edits, and the types it added."""
    return InterventionTypeList(items=[InterventionTypeView(**vars(e)) for e in service.in_force(uow=uow)])


@router.put("/intervention-types/{code}", response_model=InterventionTypeView)
def put_intervention_type(
    code: CodePath, body: InterventionTypeIn, principal: PlansWrite, uow: UnitOfWorkDep, clock: ClockDep,
) -> InterventionTypeView:
    """Adds a type to the tenant's catalogue, or rewords or retires one (`active: false`)."""
    entry = service.put(uow=uow, principal=principal, code=code, label=body.label, description=body.description,
                        active=body.active, at=clock.now())
    return InterventionTypeView(**vars(entry))
