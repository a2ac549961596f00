"""The known cases' routes, and a person's whole record for their access request."""

from __future__ import annotations

import uuid

from harambee_common.components import INTERVENTIONS
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router
from harambee_interventions.auth import CasesRead, SubjectExport
from harambee_interventions.cases import service
from harambee_interventions.cases.schemas import (
    KnownCasePage,
    KnownCaseView,
    SubjectFollowUp,
    SubjectPlan,
    SubjectProgress,
    SubjectRecord,
    SubjectSession,
    SubjectTask,
)

router = tenant_router(tags=["cases"], responses=problem_responses(401, 403, 404, 422))


@router.get("/cases", response_model=KnownCasePage)
def list_known_cases(
    principal: CasesRead, uow: UnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None
) -> KnownCasePage:
    """Lists the cases interventions has been told of, newest first (references only)."""
    page = service.read_known_cases(uow=uow, principal=principal, cursor=cursor, limit=limit)
    return KnownCasePage(items=[KnownCaseView.model_validate(c) for c in page.rows], next_cursor=page.next_cursor)


@router.get("/subjects/{subject_ref}/export", response_model=SubjectRecord, tags=["rights"])
def export_subject(
    subject_ref: uuid.UUID, principal: SubjectExport, uow: UnitOfWorkDep
) -> SubjectRecord:
    """Everything interventions holds about one person (intake gathers it for an access request)."""
    held = service.export_subject(uow=uow, principal=principal, subject_ref=subject_ref)
    return SubjectRecord(service=INTERVENTIONS.name, subject_ref=subject_ref,
                         known_cases=[KnownCaseView.model_validate(c) for c in held.cases],
                         plans=[SubjectPlan.model_validate(p) for p in held.plans],
                         tasks=[SubjectTask.model_validate(t) for t in held.tasks],
                         sessions=[SubjectSession.model_validate(x) for x in held.sessions],
                         progress=[SubjectProgress.model_validate(x) for x in held.progress],
                         follow_ups=[SubjectFollowUp.model_validate(f) for f in held.follow_ups])
