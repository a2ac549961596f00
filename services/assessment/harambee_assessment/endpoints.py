"""Assessment's routes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from harambee_assessment import service
from harambee_assessment.auth import AggregatesRead, CasesRead
from harambee_assessment.models import Case
from harambee_assessment.schemas import CaseAggregates, CasePage, CaseView
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Limit, decode_cursor, encode_cursor
from harambee_common.problems import NotFound

router = APIRouter(prefix="/v1/tenants/{tenant}", tags=["cases"])


@router.get("/cases", response_model=CasePage)
def list_cases(
    tenant: str, principal: CasesRead, uow: UnitOfWorkDep,
    referral_id: uuid.UUID | None = None, limit: Limit = 50, cursor: str | None = None,
) -> CasePage:
    """Lists cases, newest first; `referral_id` finds the case opened for a referral."""
    after = decode_cursor(cursor) if cursor else None
    cases = service.read_cases(uow=uow, principal=principal, referral_id=referral_id,
                               after=after, limit=limit)
    last = cases[-1] if len(cases) == limit else None
    return CasePage(
        items=[_view(c) for c in cases],
        next_cursor=encode_cursor(last.opened_at, str(last.id)) if last else None,
    )


@router.get("/aggregates/cases", response_model=CaseAggregates)
def case_aggregates(tenant: str, principal: AggregatesRead, uow: UnitOfWorkDep) -> CaseAggregates:
    """Counts of the tenant's cases, for programme managers and (under agreement) national coordinators."""
    return service.case_aggregates(uow=uow, principal=principal)


@router.get("/cases/{case_id}", response_model=CaseView)
def get_case(tenant: str, case_id: uuid.UUID, principal: CasesRead, uow: UnitOfWorkDep) -> CaseView:
    """Gets one case."""
    case = service.read_case(uow=uow, principal=principal, case_id=case_id)
    if case is None:
        raise NotFound("No such case.")
    return _view(case)


def _view(case: Case) -> CaseView:
    return CaseView(id=case.id, subject_ref=case.subject_ref, referral_id=case.referral_id,
                    status=case.status, opened_at=case.opened_at)
