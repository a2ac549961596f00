"""Interventions' logic: the cases it knows of (learnt from assessment's events), and who reads them.

Every read of a person's reference is recorded (`access.recorded`, in the reading transaction) before
the data leaves. Plans, sessions and reviews will hang on the known cases; a case moved to another
county leaves the sender's list, and what hangs on it must move or be minimised with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork, in_tenant
from harambee_common.pagination import Slice
from harambee_interventions import repository
from harambee_interventions.events import EVENTS
from harambee_interventions.models import KnownCase


def learn_case(*, uow: UnitOfWork, case_id: uuid.UUID, subject_ref: uuid.UUID, opened_at: datetime) -> None:
    """Remembers a case assessment opened in the unit of work's tenant, once."""
    repository.add_known_case(session=uow.session, case=KnownCase(
        case_id=case_id, tenant_id=uow.tenant, subject_ref=subject_ref, opened_at=opened_at,
    ))


def move_case(
    *, uow: UnitOfWork, from_tenant: str, case_id: uuid.UUID, received_case_id: uuid.UUID,
    subject_ref: uuid.UUID, opened_at: datetime,
) -> None:
    """Moves a transferred case from the sending county to the unit of work's, under the receiver's new id."""
    with in_tenant(uow, from_tenant) as sending:
        repository.remove_known_case(session=sending.session, case_id=case_id)
    learn_case(uow=uow, case_id=received_case_id, subject_ref=subject_ref, opened_at=opened_at)


def read_known_cases(
    *, uow: UnitOfWork, principal: TenantPrincipal, cursor: str | None, limit: int
) -> Slice[KnownCase]:
    """A page of known cases, newest first; each person's reference read is recorded."""
    page = repository.list_known_cases(session=uow.session, cursor=cursor, limit=limit)
    _record_reads(uow=uow, principal=principal, cases=page.rows)
    return page


def export_subject(*, uow: UnitOfWork, principal: TenantPrincipal, subject_ref: uuid.UUID) -> list[KnownCase]:
    """Everything interventions holds about one person, for their access request; the read is recorded."""
    cases = repository.known_cases_of_subject(session=uow.session, subject_ref=subject_ref)
    EVENTS.record_access(uow, principal=principal, subject=str(subject_ref),
                         resource=f"subject/{subject_ref}/export", fields=("known_cases",),
                         purpose="data-subject-access")
    return cases


def _record_reads(*, uow: UnitOfWork, principal: TenantPrincipal, cases: Iterable[KnownCase]) -> None:
    # One record per case, under its person's reference: audit finds every read about a person by it.
    for case in cases:
        EVENTS.record_access(uow, principal=principal, subject=str(case.subject_ref),
                             resource=f"case/{case.case_id}", fields=("case_id", "opened_at", "subject_ref"),
                             purpose="case-management")
