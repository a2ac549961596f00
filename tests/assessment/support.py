"""Events as assessment receives them, built from the catalogue, and handed to its consumer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from harambee_common.catalogue.intake import ConsentRecorded, ConsentWithdrawn, ReferralAccepted, SubjectMerged
from harambee_common.catalogue.interventions import CaseClosed, PlanReviewed
from harambee_common.components import INTAKE, INTERVENTIONS
from harambee_common.event_source import EventSource
from harambee_common.events import Event

INTAKE_EVENTS = EventSource.of(INTAKE)
INTERVENTIONS_EVENTS = EventSource.of(INTERVENTIONS)


def consumer(client):
    """The running app's event consumer."""
    return next(w for w in client.app.state.workers if hasattr(w, "apply"))


def deliver(client, event: Event) -> bool:
    """Hands an event to the app's consumer, as the broker would; returns whether it was applied now."""
    return consumer(client).apply(event.topic, event.headers(), event.value())


def referral_accepted(tenant: str) -> Event:
    """Intake's `referral.accepted` for a new person in a tenant."""
    subject_ref, accepted_at = uuid.uuid4(), datetime.now(UTC)
    data = ReferralAccepted(referral_id=uuid.uuid4(), subject_ref=subject_ref, source_type="education",
                            organisation=None, received_at=accepted_at - timedelta(days=1), accepted_at=accepted_at)
    return INTAKE_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))


def consent_recorded(tenant: str, subject_ref: str, *, purposes: tuple[str, ...] = ("support",),
                     given_by: str = "parent", recipient_organisations: tuple[str, ...] = ()) -> Event:
    """Intake's `consent.recorded` for a person (naming registry organisations among its recipients, if given)."""
    now = datetime.now(UTC)
    data = ConsentRecorded(consent_id=uuid.uuid4(), subject_ref=uuid.UUID(subject_ref), given_by=given_by,
                           purposes=list(purposes), given_at=now, expires_at=None, actor="intake-officer-1",
                           recipient_organisations=list(recipient_organisations))
    return INTAKE_EVENTS.event(data, tenant=tenant, subject=subject_ref)


def consent_withdrawn(recorded: Event) -> Event:
    """Intake's `consent.withdrawn` of a consent it recorded."""
    data = ConsentWithdrawn(consent_id=recorded.data["consent_id"], subject_ref=recorded.data["subject_ref"],
                            purposes=recorded.data["purposes"], withdrawn_at=datetime.now(UTC), withdrawn_by="person",
                            actor="intake-officer-1")
    return INTAKE_EVENTS.event(data, tenant=recorded.tenant, subject=recorded.subject)


def repeat_referral(tenant: str, subject_ref: str) -> Event:
    """Intake's `referral.accepted` of another referral of the same person."""
    now = datetime.now(UTC)
    data = ReferralAccepted(referral_id=uuid.uuid4(), subject_ref=uuid.UUID(subject_ref), source_type="health",
                            organisation=None, received_at=now, accepted_at=now)
    return INTAKE_EVENTS.event(data, tenant=tenant, subject=subject_ref)


def subject_merged(tenant: str, *, subject_ref: str, merged_ref: str) -> Event:
    """Intake's `subject.merged`: an officer confirmed that `merged_ref` is the person `subject_ref` is."""
    data = SubjectMerged(subject_ref=uuid.UUID(subject_ref), merged_ref=uuid.UUID(merged_ref), merge_id=uuid.uuid4(),
                         actor="intake-officer-1")
    return INTAKE_EVENTS.event(data, tenant=tenant, subject=subject_ref)


def plan_reviewed(tenant: str, case_id: str, subject_ref: str, *, reassessment_requested: bool) -> Event:
    """Interventions' `plan.reviewed` of a case."""
    now = datetime.now(UTC)
    data = PlanReviewed(review_id=uuid.uuid4(), case_id=uuid.UUID(case_id), subject_ref=uuid.UUID(subject_ref),
                        goals_met=1, goals_not_met=1, plan_changed=False,
                        reassessment_requested=reassessment_requested, next_review_on=now.date(), reviewed_at=now)
    return INTERVENTIONS_EVENTS.event(data, tenant=tenant, subject=subject_ref)


def case_closed(tenant: str, case_id: str, subject_ref: str) -> Event:
    """Interventions' `case.closed` of a case."""
    now = datetime.now(UTC)
    data = CaseClosed(case_id=uuid.UUID(case_id), subject_ref=uuid.UUID(subject_ref),
                      exit_reason="substantially_reduced", follow_ups_due=[now.date() + timedelta(days=182)],
                      closed_at=now)
    return INTERVENTIONS_EVENTS.event(data, tenant=tenant, subject=subject_ref)
