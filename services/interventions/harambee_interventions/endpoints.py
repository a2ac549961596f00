"""Interventions' routes."""

from __future__ import annotations

from fastapi import APIRouter

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Limit, decode_cursor, encode_cursor
from harambee_interventions import repository
from harambee_interventions.auth import CasesRead
from harambee_interventions.schemas import KnownCasePage, KnownCaseView

router = APIRouter(prefix="/v1/tenants/{tenant}", tags=["cases"])


@router.get("/cases", response_model=KnownCasePage)
def list_known_cases(
    tenant: str, principal: CasesRead, uow: UnitOfWorkDep, limit: Limit = 50, cursor: str | None = None
) -> KnownCasePage:
    """Lists the cases interventions has been told of, newest first (references only)."""
    after = decode_cursor(cursor) if cursor else None
    cases = repository.list_known_cases(session=uow.session, after=after, limit=limit)
    last = cases[-1] if len(cases) == limit else None
    return KnownCasePage(
        items=[KnownCaseView(case_id=c.case_id, subject_ref=c.subject_ref, opened_at=c.opened_at)
               for c in cases],
        next_cursor=encode_cursor(last.opened_at, str(last.case_id)) if last else None,
    )
