"""Assessment's cases: opened from accepted referrals, shown to those access.py admits (transfers: transfers.py).

Every read of a case is recorded (`access.recorded`, in the reading transaction) before the data leaves.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from harambee_assessment import access, repository, sharing
from harambee_assessment.auth import READ_CASE_SUMMARY
from harambee_assessment.events import EVENTS
from harambee_assessment.frameworks import service as frameworks
from harambee_assessment.models import Case, CaseAssignment
from harambee_assessment.panel import repository as panel
from harambee_assessment.reassessments import service as reassessments
from harambee_assessment.schemas import (
    CaseAggregates,
    CaseSummary,
    CaseView,
    Count,
    ExportedAssessment,
    ExportedDecision,
    ExportedRequest,
    SubjectRecord,
)
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.assessment import CaseAssigned, CaseOpened
from harambee_common.components import ASSESSMENT
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, NotFound, or_not_found

# A case in one of these is being worked: new information about its person makes it due for reassessment.
WORKED = ("open", "awaiting_consent", "consented")


def open_case(*, uow: UnitOfWork, referral_id: uuid.UUID, subject_ref: uuid.UUID,
              organisation: str | None = None) -> Case | None:
    """Opens the case for a referral and raises `case.opened`; None if it was already open.

    A repeat referral of a person whose earlier case is being worked is new information: that case
    becomes due for reassessment (the new referral still gets its own case, which screening accepted).
    """
    case = Case(
        id=uuid.uuid4(),
        tenant_id=uow.tenant,
        subject_ref=subject_ref,
        referral_id=referral_id,
        status="open",
        opened_at=datetime.now(UTC),
        referring_organisation=organisation,
    )
    earlier = repository.active_cases_of_subject(session=uow.session, subject_ref=subject_ref, statuses=WORKED)
    if not repository.add_case_once(session=uow.session, case=case):
        return None
    for other in earlier:
        reassessments.mark_due(uow=uow, case=other, on=case.opened_at.date(), reason="repeat_referral")
    frameworks.ensure_starters(uow=uow)
    EVENTS.publish(uow, CaseOpened(case_id=case.id, subject_ref=subject_ref, referral_id=referral_id,
                                   opened_at=case.opened_at), subject=str(subject_ref))
    return case


def subjects_merged(*, uow: UnitOfWork, subject_refs: tuple[uuid.UUID, ...], on: date) -> None:
    """An officer confirmed that two subjects are one person: each referral is a repeat referral of the other's.

    So each case of either subject still being worked becomes due for reassessment, as when a second
    referral names the same subject (open_case).
    """
    for subject_ref in subject_refs:
        for case in repository.active_cases_of_subject(session=uow.session, subject_ref=subject_ref,
                                                       statuses=WORKED):
            reassessments.mark_due(uow=uow, case=case, on=on, reason="repeat_referral")


def close_case(*, uow: UnitOfWork, case_id: uuid.UUID, at: datetime) -> None:
    """Interventions closed the case (support ended): it is closed here, with nothing more due."""
    case = repository.get_case(session=uow.session, case_id=case_id, for_update=True)
    if case is not None and case.status in WORKED:
        case.status, case.closed_at = "closed", at
        reassessments.clear_due(case=case)


def read_cases(
    *, uow: UnitOfWork, principal: TenantPrincipal, referral_id: uuid.UUID | None, cursor: str | None, limit: int
) -> Slice[Case]:
    """A page of cases, newest first; each read is recorded before it is returned."""
    page = repository.list_cases(session=uow.session, where=access.readable(principal), referral_id=referral_id,
                                 cursor=cursor, limit=limit)
    for case in page.rows:
        _record_read(uow=uow, principal=principal, case=case)
    return page


def read_case(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID) -> Case:
    """One case (or NotFound); the read is recorded before it is returned."""
    case = readable_case(uow=uow, principal=principal, case_id=case_id)
    _record_read(uow=uow, principal=principal, case=case)
    return case


def readable_case(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID,
                  for_update: bool = False) -> Case:
    """A case the principal may read (access.py), or NotFound; the caller records what it reads of it."""
    return or_not_found(repository.get_case(session=uow.session, case_id=case_id, for_update=for_update,
                                            where=access.readable(principal)), "No such case.")


def workable_case(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID) -> Case:
    """A case the principal may work on now (readable, and still being worked), locked; else 404 or 409."""
    case = readable_case(uow=uow, principal=principal, case_id=case_id, for_update=True)
    if case.status not in WORKED:
        raise Conflict(f"The case is {case.status}: no more work is done on it.")
    return case


def assign_assessor(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, assessor: str,
                    now: datetime) -> list[str]:
    """Assigns an assessor to a case (they then read it and contribute); returns the case's assessors."""
    case = workable_case(uow=uow, principal=principal, case_id=case_id)
    assignment = CaseAssignment(tenant_id=uow.tenant, case_id=case.id, assessor=assessor,
                                assigned_by=principal.actor, assigned_at=now)
    if repository.add_assignment_once(session=uow.session, assignment=assignment):
        EVENTS.publish(uow, CaseAssigned(case_id=case.id, subject_ref=case.subject_ref, assessor=assessor,
                                         actor=principal.actor), subject=str(case.subject_ref))
    _record_read(uow=uow, principal=principal, case=case)
    return repository.assessors_of(session=uow.session, case_id=case.id)


def case_summary(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, now: datetime) -> CaseSummary:
    """Where a case stands, for a partner involved in it (it referred the person, or was asked about them).

    Any other case, or a withdrawn one, is not found; the agreement was checked by the route's guard. The
    summary is cut to the agreement's fields, and refused without the person's consent where it asks for
    that (sharing.py).
    """
    organisation = principal.organisation or ""
    case = repository.get_case(session=uow.session, case_id=case_id)
    involved = case is not None and case.status != "withdrawn" and (
        case.referring_organisation == organisation
        or repository.asked(session=uow.session, case_id=case.id, organisation=organisation))
    if case is None or not involved:
        raise NotFound("No such case involving your organisation.")
    sharing.require_consent(uow=uow, principal=principal, agreement=principal.agreement, organisation=organisation,
                            subject_ref=case.subject_ref, operation=READ_CASE_SUMMARY, at=now)
    decision = panel.latest_decision(session=uow.session, case_id=case.id)
    summary, disclosed = sharing.projected(principal.agreement, {
        "case_id": case.id, "status": case.status, "opened_at": case.opened_at,
        "latest_outcome": decision.outcome if decision else None,
        "decided_at": decision.decided_at if decision else None,
    }, sharing.SUMMARY_FIELDS, always=sharing.SUMMARY_ALWAYS)
    access.record_case_read(uow=uow, principal=principal, case=case, resource=f"case/{case.id}/summary",
                            fields=disclosed, purpose="partner-case-summary")
    return CaseSummary(**summary)


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


def export_subject(*, uow: UnitOfWork, principal: TenantPrincipal, subject_ref: uuid.UUID) -> SubjectRecord:
    """Everything assessment holds about one person, for their access request; the read is recorded.

    Contributors' notes and members' dissent are the professionals' own; what an agency answered is
    the agency's: the export says that it was asked and whether it shared the concern.
    """
    cases = repository.cases_of_subject(session=uow.session, subject_ref=subject_ref)
    case_ids = [c.id for c in cases]
    held = repository.held_about(session=uow.session, case_ids=case_ids)
    EVENTS.record_access(uow, principal=principal, subject=str(subject_ref), resource=f"subject/{subject_ref}/export",
                         fields=("cases", "assessments", "panel_decisions", "information_requests"),
                         purpose="data-subject-access")
    return SubjectRecord(
        service=ASSESSMENT.name, subject_ref=subject_ref, cases=[CaseView.model_validate(c) for c in cases],
        assessments=[ExportedAssessment.model_validate(a) for a in held.assessments],
        panel_decisions=[ExportedDecision.model_validate(d) for d in held.decisions],
        information_requests=[ExportedRequest.model_validate(r) for r in held.requests],
    )


def _record_read(*, uow: UnitOfWork, principal: TenantPrincipal, case: Case) -> None:
    held = {"referral_id": case.referral_id, "closed_at": case.closed_at, "transfer_id": case.transfer_id,
            "transferred_from": case.transferred_from, "reassessment_due_on": case.reassessment_due_on,
            "consent_id": case.consent_id}
    access.record_case_read(
        uow=uow, principal=principal, case=case, resource=access.case_resource(case.id),
        fields=("status", "opened_at", *(name for name, value in held.items() if value is not None)),
    )
