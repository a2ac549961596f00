"""Assessment's cases: opened from accepted referrals, shown to programme staff (transfers: transfers.py).

Every read of a case is recorded (`access.recorded`, in the reading transaction) before the data leaves.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from harambee_assessment import repository
from harambee_assessment.events import EVENTS
from harambee_assessment.models import Case
from harambee_assessment.schemas import CaseAggregates, Count
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.assessment import CaseOpened
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import or_not_found


def open_case(*, uow: UnitOfWork, referral_id: uuid.UUID, subject_ref: uuid.UUID) -> Case | None:
    """Opens the case for a referral and raises `case.opened`; None if it was already open."""
    case = Case(
        id=uuid.uuid4(),
        tenant_id=uow.tenant,
        subject_ref=subject_ref,
        referral_id=referral_id,
        status="open",
        opened_at=datetime.now(UTC),
    )
    if not repository.add_case_once(session=uow.session, case=case):
        return None
    EVENTS.publish(uow, CaseOpened(case_id=case.id, subject_ref=subject_ref, referral_id=referral_id,
                                   opened_at=case.opened_at), subject=str(subject_ref))
    return case


def read_cases(
    *, uow: UnitOfWork, principal: TenantPrincipal, referral_id: uuid.UUID | None, cursor: str | None, limit: int
) -> Slice[Case]:
    """A page of cases, newest first; each read is recorded before it is returned."""
    page = repository.list_cases(session=uow.session, referral_id=referral_id, cursor=cursor, limit=limit)
    for case in page.rows:
        _record_read(uow=uow, principal=principal, case=case)
    return page


def read_case(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID) -> Case:
    """One case (or NotFound); the read is recorded before it is returned."""
    case = or_not_found(repository.get_case(session=uow.session, case_id=case_id), "No such case.")
    _record_read(uow=uow, principal=principal, case=case)
    return case


def case_aggregates(*, uow: UnitOfWork, principal: TenantPrincipal) -> CaseAggregates:
    """Case counts by status and month opened; suppressed below the agreement's threshold for outsiders."""
    threshold = principal.agreement.suppression_threshold if principal.agreement else None

    def cells(rows: list[tuple[str, int]]) -> list[Count]:
        small = threshold is not None
        return [Count(key=k, count=None if small and n < threshold else n, suppressed=small and n < threshold)
                for k, n in rows]

    return CaseAggregates(
        tenant=uow.tenant,
        suppression_threshold=threshold,
        by_status=cells(repository.count_cases_by_status(session=uow.session)),
        by_month_opened=cells(repository.count_cases_by_month_opened(session=uow.session)),
    )


def export_subject(*, uow: UnitOfWork, principal: TenantPrincipal, subject_ref: uuid.UUID) -> list[Case]:
    """Everything assessment holds about one person, for their access request; the read is recorded."""
    cases = repository.cases_of_subject(session=uow.session, subject_ref=subject_ref)
    EVENTS.record_access(uow, principal=principal, subject=str(subject_ref),
                         resource=f"subject/{subject_ref}/export", fields=("cases",), purpose="data-subject-access")
    return cases


def _record_read(*, uow: UnitOfWork, principal: TenantPrincipal, case: Case) -> None:
    # A case minimised after a transfer no longer names a person: its read is filed under the case.
    held = {"referral_id": case.referral_id, "closed_at": case.closed_at, "transfer_id": case.transfer_id,
            "transferred_from": case.transferred_from}
    EVENTS.record_access(
        uow,
        principal=principal,
        subject=str(case.subject_ref) if case.subject_ref else f"case/{case.id}",
        resource=f"case/{case.id}",
        fields=("status", "opened_at", *(name for name, value in held.items() if value is not None)),
        purpose="case-management",
    )
