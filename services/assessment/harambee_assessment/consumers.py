"""What assessment does with events: intake's, interventions', the registry's, and its own where a transfer
crosses tenants.

Each handler reads the event's catalogued data and makes one service call.
"""

from __future__ import annotations

from harambee_assessment import consent, repository, service, transfers
from harambee_assessment.reassessments import service as reassessments
from harambee_common.agreements import AGREEMENT_HANDLERS
from harambee_common.catalogue.assessment import TransferAccepted, TransferProposed, TransferRefused
from harambee_common.catalogue.intake import ConsentRecorded, ConsentWithdrawn, ReferralAccepted, SubjectMerged
from harambee_common.catalogue.interventions import CaseClosed, PlanReviewed
from harambee_common.components import ASSESSMENT, GATEWAY, INTAKE, INTERVENTIONS
from harambee_common.consumer import Subscription
from harambee_common.db import UnitOfWork
from harambee_common.events import Event


def on_referral_accepted(uow: UnitOfWork, event: Event) -> None:
    """Screening accepted a referral for assessment: open its case.

    Only accepted referrals become cases; escalated, signposted and no-further-action ones never reach
    assessment, as the programme's least-data rule asks.
    """
    data = ReferralAccepted.of(event)
    service.open_case(uow=uow, referral_id=data.referral_id, subject_ref=data.subject_ref,
                      organisation=data.organisation)


def on_subject_merged(uow: UnitOfWork, event: Event) -> None:
    """An officer confirmed a repeat referral's candidate match: the person's cases being worked fall due."""
    data = SubjectMerged.of(event)
    service.subjects_merged(uow=uow, subject_refs=(data.subject_ref, data.merged_ref), on=event.time.date())


def on_consent_recorded(uow: UnitOfWork, event: Event) -> None:
    """Intake recorded a consent: one to support lets the person's adopted cases start."""
    consent.consent_recorded(uow=uow, consent=ConsentRecorded.of(event))


def on_consent_withdrawn(uow: UnitOfWork, event: Event) -> None:
    """Intake recorded a withdrawal: a withdrawn consent to support stops the person's cases at once."""
    consent.consent_withdrawn(uow=uow, withdrawal=ConsentWithdrawn.of(event))


def on_plan_reviewed(uow: UnitOfWork, event: Event) -> None:
    """An intervention review that asks for it makes the case due for reassessment now."""
    data = PlanReviewed.of(event)
    if not data.reassessment_requested:
        return
    case = repository.get_case(session=uow.session, case_id=data.case_id, for_update=True)
    if case is not None and case.status in service.WORKED:
        reassessments.mark_due(uow=uow, case=case, on=data.reviewed_at.date(), reason="intervention_review")


def on_case_closed(uow: UnitOfWork, event: Event) -> None:
    """Support ended: the case is closed here too, and no reassessment is due."""
    data = CaseClosed.of(event)
    service.close_case(uow=uow, case_id=data.case_id, at=data.closed_at)


def on_transfer_proposed(uow: UnitOfWork, event: Event) -> None:
    """A county proposed a transfer: the receiving county's side records it."""
    data = TransferProposed.of(event)
    if data.raised_by(event.tenant, side="sender"):
        transfers.receive_transfer(uow=uow, proposal=data)


def on_transfer_accepted(uow: UnitOfWork, event: Event) -> None:
    """The receiving county took the case over: the sender's case is marked transferred and minimised."""
    data = TransferAccepted.of(event)
    if data.raised_by(event.tenant, side="receiver"):
        transfers.conclude_accepted(uow=uow, acceptance=data, at=event.time)


def on_transfer_refused(uow: UnitOfWork, event: Event) -> None:
    """The receiving county declined: the sender records it; its case stays open."""
    data = TransferRefused.of(event)
    if data.raised_by(event.tenant, side="receiver"):
        transfers.conclude_refused(uow=uow, refusal=data, at=event.time)


SUBSCRIPTION = Subscription(
    name=ASSESSMENT.name,
    # Its own topic too: each county's step of a transfer is the other county's news.
    topics=(INTAKE.topic, GATEWAY.topic, ASSESSMENT.topic, INTERVENTIONS.topic),
    handlers={
        ReferralAccepted: on_referral_accepted,
        SubjectMerged: on_subject_merged,
        ConsentRecorded: on_consent_recorded,
        ConsentWithdrawn: on_consent_withdrawn,
        PlanReviewed: on_plan_reviewed,
        CaseClosed: on_case_closed,
        TransferProposed: on_transfer_proposed,
        TransferAccepted: on_transfer_accepted,
        TransferRefused: on_transfer_refused,
        **AGREEMENT_HANDLERS,
    },
)
