"""Interventions' routes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from harambee_common.access import record_access
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Limit, decode_cursor, encode_cursor
from harambee_interventions import repository
from harambee_interventions.auth import CasesRead, SubjectExport
from harambee_interventions.events import SOURCE, TOPIC
from harambee_interventions.schemas import KnownCasePage, KnownCaseView, SubjectRecord

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


@router.get("/subjects/{subject_ref}/export", response_model=SubjectRecord, tags=["rights"])
def export_subject(tenant: str, subject_ref: uuid.UUID, principal: SubjectExport, uow: UnitOfWorkDep) -> SubjectRecord:
    """Everything interventions holds about one person (intake gathers it for an access request)."""
    cases = repository.known_cases_of_subject(session=uow.session, subject_ref=subject_ref)
    record_access(uow, principal=principal, topic=TOPIC, source=SOURCE,
                  subject=str(subject_ref), resource=f"subject/{subject_ref}/export", fields=("known_cases",),
                  purpose="data-subject-access")
    return SubjectRecord(
        service="interventions",
        subject_ref=subject_ref,
        known_cases=[KnownCaseView(case_id=c.case_id, subject_ref=c.subject_ref, opened_at=c.opened_at)
                     for c in cases],
    )
