"""Retention's routes: running it now, and the report of each run."""

from __future__ import annotations

from fastapi import status

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Limit
from harambee_common.tenancy import tenant_router
from harambee_intake.auth import IntakeOfficer, RightsRead
from harambee_intake.models import RetentionRun
from harambee_intake.retention import service
from harambee_intake.retention.schemas import RetentionRunView

router = tenant_router(tags=["retention"])


@router.post("/retention/runs", status_code=status.HTTP_201_CREATED, response_model=RetentionRunView)
def run_retention(principal: IntakeOfficer, uow: UnitOfWorkDep) -> RetentionRunView:
    """Runs the retention job in this tenant now (it also runs on a schedule), and reports what it did."""
    return _view(service.run(uow=uow, actor=principal.actor))


@router.get("/retention/runs", response_model=list[RetentionRunView])
def list_retention_runs(
    _principal: RightsRead, uow: UnitOfWorkDep, limit: Limit = 50
) -> list[RetentionRunView]:
    """The latest retention runs and what each did."""
    return [_view(r) for r in service.runs(uow=uow, limit=limit)]


def _view(run: RetentionRun) -> RetentionRunView:
    return RetentionRunView(id=run.id, ran_at=run.ran_at, ran_by=run.ran_by, report=run.report)
