"""What interventions does with other services' events: each is mapped to one service call."""

from __future__ import annotations

from harambee_common.agreements import AGREEMENT_HANDLERS
from harambee_common.catalogue.assessment import (
    AssessmentApproved,
    CaseConsented,
    CaseOpened,
    CaseWithdrawn,
    TransferAccepted,
)
from harambee_common.catalogue.intake import ConsentRecorded, ConsentWithdrawn
from harambee_common.catalogue.registry import OrganisationCreated, OrganisationUpdated
from harambee_common.components import ASSESSMENT, INTAKE, INTERVENTIONS
from harambee_common.consumer import Subscription
from harambee_common.db import UnitOfWork
from harambee_common.events import Event
from harambee_interventions.cases import service
from harambee_interventions.consents import service as consents
from harambee_interventions.providers import service as providers


def on_case_opened(uow: UnitOfWork, event: Event) -> None:
    """A case was opened: remember it, so that a plan can be made for it once consented."""
    data = CaseOpened.of(event)
    service.learn_case(uow=uow, case_id=data.case_id, subject_ref=data.subject_ref, opened_at=data.opened_at)


def on_case_consented(uow: UnitOfWork, event: Event) -> None:
    """An adopted case holds consent to support: a plan may now be made for the approved assessment's needs."""
    data = CaseConsented.of(event)
    service.record_consent(uow=uow, case_id=data.case_id, subject_ref=data.subject_ref, consent_id=data.consent_id,
                           assessment_id=data.assessment_id, needs=data.needs, consented_at=data.consented_at)


def on_assessment_approved(uow: UnitOfWork, event: Event) -> None:
    """A (re)assessment was approved: a consented case's plan now ties to its needs."""
    data = AssessmentApproved.of(event)
    service.refresh_needs(uow=uow, case_id=data.case_id, assessment_id=data.assessment_id, needs=data.needs)


def on_case_withdrawn(uow: UnitOfWork, event: Event) -> None:
    """Consent to support was withdrawn from a case: every open task stops at once."""
    data = CaseWithdrawn.of(event)
    service.withdraw_case(uow=uow, case_id=data.case_id, withdrawn_at=data.withdrawn_at)


def on_consent_recorded(uow: UnitOfWork, event: Event) -> None:
    """Intake recorded a consent: keep which registry organisations it names, for the agreements that need one."""
    data = ConsentRecorded.of(event)
    consents.record(uow=uow, consent_id=data.consent_id, subject_ref=data.subject_ref,
                    organisations=data.recipient_organisations, expires_at=data.expires_at)


def on_consent_withdrawn(uow: UnitOfWork, event: Event) -> None:
    """Intake recorded a consent's withdrawal: it names no one any more, and the cases resting on it stop at once."""
    data = ConsentWithdrawn.of(event)
    consents.withdraw(uow=uow, consent_id=data.consent_id, withdrawn_at=data.withdrawn_at)
    service.withdraw_consent(uow=uow, consent_id=data.consent_id, withdrawn_at=data.withdrawn_at)


def on_organisation_changed(uow: UnitOfWork, event: Event) -> None:
    """The registry created or changed an organisation: a county may register it as a provider where it works."""
    data = (OrganisationCreated if event.type == OrganisationCreated.type else OrganisationUpdated).of(event)
    providers.learn_organisation(uow=uow, organisation=data.organisation, kind=data.kind, tenants=data.tenants)


def on_transfer_accepted(uow: UnitOfWork, event: Event) -> None:
    """A county took a case over from another: the case moves, under its new id, to the receiving county."""
    data = TransferAccepted.of(event)
    if data.raised_by(event.tenant, side="receiver"):
        service.move_case(uow=uow, from_tenant=data.from_tenant, case_id=data.case_id,
                          received_case_id=data.received_case_id, subject_ref=data.subject_ref,
                          opened_at=data.opened_at, agreement_id=data.agreement_id,
                          agreement_version=data.agreement_version)


SUBSCRIPTION = Subscription(
    name=INTERVENTIONS.name,
    topics=("registry.events", ASSESSMENT.topic, INTAKE.topic),
    handlers={
        CaseOpened: on_case_opened,
        CaseConsented: on_case_consented,
        AssessmentApproved: on_assessment_approved,
        CaseWithdrawn: on_case_withdrawn,
        ConsentRecorded: on_consent_recorded,
        ConsentWithdrawn: on_consent_withdrawn,
        TransferAccepted: on_transfer_accepted,
        OrganisationCreated: on_organisation_changed,
        OrganisationUpdated: on_organisation_changed,
        **AGREEMENT_HANDLERS,
    },
)
