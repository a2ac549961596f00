"""Population figures and the disparity threshold: the tenant's own, set by its manager."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path

from harambee_common.db import UnitOfWorkDep
from harambee_common.tenancy import tenant_router
from harambee_monitoring.auth import FiguresWrite
from harambee_monitoring.indicators.schemas import PopulationIn, PopulationView, ThresholdIn
from harambee_monitoring.population import repository, service

router = tenant_router(tags=["disparity"])

Dimension = Annotated[str, Path(description=", ".join(service.DIMENSIONS))]
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not the tenant's manager (problem)"},
    404: {"description": "No such tenant for the caller, dimension or figures (problem)"},
    422: {"description": "Unknown groups or negative figures (problem)"},
}


@router.put("/population-figures/{dimension}", response_model=PopulationView, responses=ERRORS)
def put_figures(dimension: Dimension, body: PopulationIn, principal: FiguresWrite,
                uow: UnitOfWorkDep) -> PopulationView:
    """Replaces the population per group of one dimension (e.g. `age_band_gender`: `{"18_24:male": 41200}`)."""
    return service.record_figures(uow=uow, principal=principal, dimension=dimension, groups=body.groups,
                                  source=body.source)


@router.get("/population-figures/{dimension}", response_model=PopulationView, responses=ERRORS)
def get_figures(dimension: Dimension, principal: FiguresWrite, uow: UnitOfWorkDep) -> PopulationView:
    """The population figures of one dimension."""
    del principal  # who may call is the point; the figures are the tenant's
    return service.read_figures(uow=uow, dimension=dimension)


@router.put("/disparity-threshold", response_model=ThresholdIn, responses=ERRORS)
def put_threshold(body: ThresholdIn, principal: FiguresWrite, uow: UnitOfWorkDep) -> ThresholdIn:
    """Sets the ratio (referral share ÷ population share) at which a group is flagged; 2 by default."""
    repository.set_threshold(session=uow.session, tenant=uow.tenant, value=body.threshold, actor=principal.actor,
                             at=datetime.now(UTC))
    return body
