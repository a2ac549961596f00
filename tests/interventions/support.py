"""Other services' events as interventions receives them, built from the catalogue and handed to its
consumer; and the callers of interventions' API (county staff, providers' systems, practitioners)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from harambee_common.catalogue.assessment import (
    AssessmentApproved,
    CaseConsented,
    CaseOpened,
    CaseWithdrawn,
    TransferAccepted,
)
from harambee_common.catalogue.intake import ConsentRecorded, ConsentWithdrawn
from harambee_common.catalogue.registry import OrganisationCreated, OrganisationUpdated
from harambee_common.components import ASSESSMENT, INTAKE
from harambee_common.event_source import EventSource
from harambee_common.events import Event
from harambee_interventions.flags.scheduler import FlagCheck
from tests.support.agreements import agreement_event, agreement_view

ASSESSMENT_EVENTS = EventSource.of(ASSESSMENT)
INTAKE_EVENTS = EventSource.of(INTAKE)
PROVIDER_OPERATIONS = ["read_intervention_tasks", "record_intervention_sessions"]
# Every field of a provider's views (tasks.sharing), as its agreement names them.
PROVIDER_FIELDS = ("reference", "goal", "intervention_type", "practitioner_id", "starts_on", "expected_end_on",
                   "last_session_on", "held_on", "duration_minutes", "attended", "note", "recorded_at")


def apply(client, event: Event) -> bool:
    """Hands an event to the app's consumer, as the broker would; returns whether it was applied now."""
    consumer = next(w for w in client.app.state.workers if hasattr(w, "apply"))
    return consumer.apply(event.topic, event.headers(), event.value())


def case_opened(tenant: str, *, case_id: uuid.UUID | None = None, subject_ref: uuid.UUID | None = None,
                opened_at: datetime | None = None) -> Event:
    """Assessment's `case.opened` in a tenant."""
    subject_ref = subject_ref or uuid.uuid4()
    data = CaseOpened(case_id=case_id or uuid.uuid4(), subject_ref=subject_ref, referral_id=uuid.uuid4(),
                      opened_at=opened_at or datetime.now(UTC))
    return ASSESSMENT_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))


def case_consented(tenant: str, *, case_id: uuid.UUID, subject_ref: uuid.UUID, needs: list[str],
                   consent_id: uuid.UUID | None = None) -> Event:
    """Assessment's `case.consented`: the case is adopted and holds consent to support."""
    data = CaseConsented(case_id=case_id, subject_ref=subject_ref, consent_id=consent_id or uuid.uuid4(),
                         given_by="person", needs=sorted(needs), assessment_id=uuid.uuid4(),
                         consented_at=datetime.now(UTC))
    return ASSESSMENT_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))


def assessment_approved(tenant: str, *, case_id: uuid.UUID, subject_ref: uuid.UUID, needs: list[str]) -> Event:
    """Assessment's `assessment.approved` (a reassessment, when the case was assessed before)."""
    data = AssessmentApproved(assessment_id=uuid.uuid4(), case_id=case_id, subject_ref=subject_ref,
                              framework_id=uuid.uuid4(), framework_version=1, needs=sorted(needs), supersedes=None,
                              items_compared=0, items_improved=0, items_worsened=0, approved_at=datetime.now(UTC))
    return ASSESSMENT_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))


def case_withdrawn(tenant: str, *, case_id: uuid.UUID, subject_ref: uuid.UUID, consent_id: uuid.UUID) -> Event:
    """Assessment's `case.withdrawn`."""
    data = CaseWithdrawn(case_id=case_id, subject_ref=subject_ref, consent_id=consent_id,
                         withdrawn_at=datetime.now(UTC))
    return ASSESSMENT_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))


def consent_recorded(tenant: str, *, subject_ref: uuid.UUID, organisations: list[str],
                     expires_at: datetime | None = None, consent_id: uuid.UUID | None = None) -> Event:
    """Intake's `consent.recorded`, naming those registry organisations among its recipients."""
    data = ConsentRecorded(consent_id=consent_id or uuid.uuid4(), subject_ref=subject_ref, given_by="parent",
                           purposes=["support"], given_at=datetime.now(UTC), expires_at=expires_at,
                           actor="intake-officer-1", recipient_organisations=organisations)
    return INTAKE_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))


def consent_withdrawn(tenant: str, *, consent_id: uuid.UUID, subject_ref: uuid.UUID) -> Event:
    """Intake's `consent.withdrawn`."""
    data = ConsentWithdrawn(consent_id=consent_id, subject_ref=subject_ref, purposes=["support"],
                            withdrawn_at=datetime.now(UTC), withdrawn_by="person", actor="intake-officer-1")
    return INTAKE_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))


def transfer_accepted(tenant: str, *, case_id: uuid.UUID, received_case_id: uuid.UUID, subject_ref: uuid.UUID,
                      sender: str, receiver: str, agreement_id: uuid.UUID | None = None) -> Event:
    """Assessment's `case.transfer_accepted`, raised in `tenant` (the receiver's, unless it is forged)."""
    data = TransferAccepted(
        transfer_id=uuid.uuid4(), case_id=case_id, subject_ref=subject_ref, from_tenant=sender, to=receiver,
        reason="relocation", actor=f"case_worker@{receiver}", received_case_id=received_case_id,
        opened_at=datetime.now(UTC), agreement_id=agreement_id or uuid.uuid4(), agreement_version=1,
    )
    return ASSESSMENT_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))


def run_flag_check(client) -> int:
    """Runs the scheduled flag check once, now (on the app's clock); returns how many flags it raised."""
    check = next(w for w in client.app.state.workers if isinstance(w, FlagCheck))
    return check.run_once()


def move_clock(client, **delta: float) -> None:
    """Moves the app's clock (the API's and the flag check's) forward."""
    client.app.state.clock.advance(timedelta(**delta))


def today(client) -> date:
    """Today on the app's clock."""
    return client.app.state.clock.now().date()


@dataclass
class Callers:
    """Tokens for the people and systems who call interventions in one tenant."""

    issuer: Any
    tenant: str

    def staff(self, *, write: bool = True) -> dict[str, str]:
        """A county case manager (case worker with plans:write), or a case worker who only reads."""
        scope = "cases:read plans:write" if write else "cases:read"
        return self.issuer.headers(tenants={self.tenant: ["case_worker"]}, scope=scope, sub="case-manager-1",
                                   client_id="county-console")

    def provider_system(self, organisation: str) -> dict[str, str]:
        """A provider organisation's system (a partner client)."""
        return self.issuer.headers(tenants={self.tenant: ["partner"]}, scope="tasks:read tasks:write",
                                   sub=f"client-{organisation}", client_id=f"client-{organisation}",
                                   org=organisation)

    def practitioner(self, organisation: str, person_id: uuid.UUID) -> dict[str, str]:
        """A named practitioner of a provider organisation (a person)."""
        return self.issuer.headers(tenants={self.tenant: ["intervention_provider"]}, scope="tasks:read tasks:write",
                                   sub=str(person_id), client_id="provider-app", org=organisation)


def allow_provider(client, *, tenant: str, organisation: str, fields: tuple[str, ...] = PROVIDER_FIELDS,
                   consent_required: bool = False, **view: Any) -> dict[str, Any]:
    """An agreement in force between the tenant and a provider organisation for its tasks, naming those fields."""
    view = agreement_view(tenant=tenant, parties=[("organisation", organisation)], operations=PROVIDER_OPERATIONS,
                          **view)
    view.update(data_categories=[{"name": "intervention_task", "sensitive": True, "fields": list(fields)}],
                consent_required=consent_required)
    apply(client, agreement_event(view))
    return view


def consented_case(client, tenant: str, *, needs: list[str]) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A case opened and consented with these needs: (case_id, subject_ref, consent_id)."""
    case_id, subject_ref, consent_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert apply(client, case_opened(tenant, case_id=case_id, subject_ref=subject_ref))
    assert apply(client, case_consented(tenant, case_id=case_id, subject_ref=subject_ref, needs=needs,
                                        consent_id=consent_id))
    return case_id, subject_ref, consent_id


def registered_organisation(client, organisation: str, *, tenants: list[str], kind: str = "provider",
                            updated: bool = False) -> None:
    """The registry's `organisation.created` (or `.updated`): the organisation works in these tenants."""
    model = OrganisationUpdated if updated else OrganisationCreated
    data = model(organisation=organisation, name=organisation.title(), kind=kind, tenants=tenants,
                 actor="platform-admin")
    assert apply(client, Event(type=model.type, tenant="platform", topic="registry.events", source="/gateway/registry",
                               subject=organisation, data=data.dump()))


def vetted_provider(client, staff: dict[str, str], tenant: str, *, organisation: str | None = None,
                    types: tuple[str, ...] = ("mentoring",), expires_in_days: int = 365) -> tuple[uuid.UUID, str]:
    """A provider registered and vetted for the types, with an agreement for its tasks: (provider_id, organisation)."""
    organisation = organisation or f"provider-{uuid.uuid4().hex[:8]}"
    registered_organisation(client, organisation, tenants=[tenant])
    response = client.post(f"/v1/tenants/{tenant}/providers", json={"organisation": organisation}, headers=staff)
    assert response.status_code == 201, response.text
    provider_id = response.json()["provider_id"]
    now = client.app.state.clock.now().date()
    for code in types:
        vetted = client.put(f"/v1/tenants/{tenant}/providers/{provider_id}/vettings/{code}", headers=staff,
                            json={"vetted_on": (now - timedelta(days=30)).isoformat(),
                                  "expires_on": (now + timedelta(days=expires_in_days)).isoformat()})
        assert vetted.status_code == 200, vetted.text
    allow_provider(client, tenant=tenant, organisation=organisation)
    return uuid.UUID(provider_id), organisation


def item(provider_id: uuid.UUID, *, need: str = "education", goal: str = "Back in a training course by March",
         intervention_type: str = "mentoring", starts_on: date, weeks: int = 12, **extra: Any) -> dict[str, Any]:
    """One plan item as the API takes it."""
    return {"need": need, "goal": goal, "intervention_type": intervention_type, "provider_id": str(provider_id),
            "starts_on": starts_on.isoformat(), "expected_end_on": (starts_on + timedelta(weeks=weeks)).isoformat(),
            **{k: str(v) if isinstance(v, uuid.UUID) else v for k, v in extra.items()}}
