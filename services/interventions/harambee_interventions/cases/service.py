"""Interventions' knowledge of cases, learnt from assessment's and intake's events, and who reads it.

A case is known from `case.opened`; `case.consented` brings the consent it rests on and the approved
assessment's needs (a later `assessment.approved` refreshes them), after which a plan may be made.
Withdrawal — `case.withdrawn`, or intake's `consent.withdrawn` of the consent a case rests on — stops
every open task of the case at once. A case moved to another county leaves the sender's list; its plan
follows it as `plans.transfer` decides. Every read of a person's reference is recorded
(`access.recorded`, in the reading transaction) before the data leaves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork, in_tenant
from harambee_common.pagination import Slice
from harambee_interventions.cases import repository
from harambee_interventions.events import EVENTS
from harambee_interventions.models import FollowUp, KnownCase, Plan, ProgressUpdate, SessionRecord, Task
from harambee_interventions.plans import stopping, transfer


def learn_case(*, uow: UnitOfWork, case_id: uuid.UUID, subject_ref: uuid.UUID, opened_at: datetime) -> None:
    """Remembers a case assessment opened in the unit of work's tenant, once."""
    repository.add_known_case(session=uow.session, case=KnownCase(
        case_id=case_id, tenant_id=uow.tenant, subject_ref=subject_ref, opened_at=opened_at,
    ))


def record_consent(
    *, uow: UnitOfWork, case_id: uuid.UUID, subject_ref: uuid.UUID, consent_id: uuid.UUID,
    assessment_id: uuid.UUID, needs: list[str], consented_at: datetime,
) -> None:
    """An adopted case holds consent to support: remember it and the needs a plan may address."""
    learn_case(uow=uow, case_id=case_id, subject_ref=subject_ref, opened_at=consented_at)
    case = repository.get_known_case(session=uow.session, case_id=case_id, for_update=True)
    assert case is not None
    case.consent_id, case.assessment_id, case.consented_at = consent_id, assessment_id, consented_at
    case.needs, case.withdrawn_at = sorted(set(needs)), None


def refresh_needs(*, uow: UnitOfWork, case_id: uuid.UUID, assessment_id: uuid.UUID, needs: list[str]) -> None:
    """A later approved assessment (a reassessment) of a consented case: its needs are now the ones to plan for."""
    case = repository.get_known_case(session=uow.session, case_id=case_id, for_update=True)
    if case is not None and case.consent_id is not None:
        case.assessment_id, case.needs = assessment_id, sorted(set(needs))


def withdraw_case(*, uow: UnitOfWork, case_id: uuid.UUID, withdrawn_at: datetime) -> None:
    """Consent to support was withdrawn for a case: stop its work at once."""
    case = repository.get_known_case(session=uow.session, case_id=case_id, for_update=True)
    if case is not None:
        _withdraw(uow=uow, case=case, withdrawn_at=withdrawn_at, reason="case_withdrawn")


def withdraw_consent(*, uow: UnitOfWork, consent_id: uuid.UUID, withdrawn_at: datetime) -> None:
    """Intake recorded a consent's withdrawal: every case resting on it stops at once."""
    for case in repository.cases_with_consent(session=uow.session, consent_id=consent_id):
        _withdraw(uow=uow, case=case, withdrawn_at=withdrawn_at, reason="consent_withdrawn")


def _withdraw(*, uow: UnitOfWork, case: KnownCase, withdrawn_at: datetime, reason: str) -> None:
    case.withdrawn_at = case.withdrawn_at or withdrawn_at
    case.consent_id = None
    stopping.stop_plan_of_case(uow=uow, case_id=case.case_id, reason=reason, at=withdrawn_at)


def move_case(
    *, uow: UnitOfWork, from_tenant: str, case_id: uuid.UUID, received_case_id: uuid.UUID,
    subject_ref: uuid.UUID, opened_at: datetime, agreement_id: uuid.UUID, agreement_version: int,
) -> None:
    """Moves a transferred case from the sending county to the unit of work's, under the receiver's new id.

    The consent and needs move with the case (the person consented to support, wherever it is given);
    the plan moves as far as the sender's agreement lets it (`plans.transfer`).
    """
    with in_tenant(uow, from_tenant) as sending:
        case = repository.remove_known_case(session=sending.session, case_id=case_id)
        moved = transfer.release_plan(uow=sending, case_id=case_id, receiver=uow.tenant, at=opened_at,
                                      agreement_id=agreement_id, agreement_version=agreement_version)
    repository.add_known_case(session=uow.session, case=KnownCase(
        case_id=received_case_id, tenant_id=uow.tenant, subject_ref=subject_ref, opened_at=opened_at,
        consent_id=case.consent_id if case else None, assessment_id=case.assessment_id if case else None,
        needs=case.needs if case else [], consented_at=case.consented_at if case else None,
        withdrawn_at=case.withdrawn_at if case else None,
    ))
    if moved is not None:
        transfer.receive_plan(uow=uow, moved=moved, case_id=received_case_id, previous_case_id=case_id,
                              from_tenant=from_tenant, at=opened_at)


def read_known_cases(
    *, uow: UnitOfWork, principal: TenantPrincipal, cursor: str | None, limit: int
) -> Slice[KnownCase]:
    """A page of known cases, newest first; each person's reference read is recorded."""
    page = repository.list_known_cases(session=uow.session, cursor=cursor, limit=limit)
    _record_reads(uow=uow, principal=principal, cases=page.rows)
    return page


@dataclass(frozen=True)
class HeldAboutSubject:
    """Everything interventions holds about one person."""

    cases: list[KnownCase]
    plans: list[Plan]
    tasks: list[Task]
    sessions: list[SessionRecord]
    progress: list[ProgressUpdate]
    follow_ups: list[FollowUp]


def export_subject(*, uow: UnitOfWork, principal: TenantPrincipal, subject_ref: uuid.UUID) -> HeldAboutSubject:
    """Everything interventions holds about one person, for their access request; the read is recorded."""
    cases = repository.known_cases_of_subject(session=uow.session, subject_ref=subject_ref)
    held = HeldAboutSubject(cases, *repository.held_about_subject(session=uow.session, subject_ref=subject_ref))
    EVENTS.record_access(uow, principal=principal, subject=str(subject_ref),
                         resource=f"subject/{subject_ref}/export",
                         fields=("known_cases", "plans", "tasks", "sessions", "progress", "follow_ups"),
                         purpose="data-subject-access")
    return held


def _record_reads(*, uow: UnitOfWork, principal: TenantPrincipal, cases: Iterable[KnownCase]) -> None:
    # One record per case, under its person's reference: audit finds every read about a person by it.
    for case in cases:
        EVENTS.record_access(uow, principal=principal, subject=str(case.subject_ref),
                             resource=f"case/{case.case_id}", fields=("case_id", "opened_at", "subject_ref"),
                             purpose="case-management")
