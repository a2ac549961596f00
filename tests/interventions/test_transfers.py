"""A case transferred between counties moves in interventions too: the sender no longer lists it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from harambee_common.events import Event
from tests.support.services import rows, running_service


@pytest.fixture(scope="module")
def interventions(postgres, broker, issuer):
    with running_service("interventions", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


def apply(client, event: Event) -> bool:
    consumer = next(w for w in client.app.state.workers if hasattr(w, "apply"))
    return consumer.apply(event.topic, event.headers(), event.value())


def listed(client, issuer, tenant: str) -> set[str]:
    headers = issuer.headers(tenants={tenant: ["case_worker"]}, scope="cases:read")
    response = client.get(f"/v1/tenants/{tenant}/cases", headers=headers)
    assert response.status_code == 200, response.text
    return {c["case_id"] for c in response.json()["items"]}


def test_accepted_transfer_moves_the_known_case_to_the_receiving_county(interventions, issuer):
    client, database = interventions
    case_id, received_id, subject = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    apply(client, Event(type="case.opened", tenant="ke-mombasa", topic="assessment.events",
                        source="/harambee/assessment", subject=subject,
                        data={"case_id": case_id, "subject_ref": subject, "referral_id": str(uuid.uuid4()),
                              "opened_at": datetime.now(UTC).isoformat()}))
    other = str(uuid.uuid4())
    apply(client, Event(type="case.opened", tenant="ke-mombasa", topic="assessment.events",
                        source="/harambee/assessment", subject=other,
                        data={"case_id": other, "subject_ref": other, "referral_id": str(uuid.uuid4()),
                              "opened_at": datetime.now(UTC).isoformat()}))
    assert case_id in listed(client, issuer, "ke-mombasa")

    accepted = Event(type="case.transfer_accepted", tenant="ke-nairobi", topic="assessment.events",
                     source="/harambee/assessment", subject=subject,
                     data={"transfer_id": str(uuid.uuid4()), "case_id": case_id, "received_case_id": received_id,
                           "subject_ref": subject, "from": "ke-mombasa", "to": "ke-nairobi", "reason": "relocation",
                           "opened_at": datetime.now(UTC).isoformat()})
    assert apply(client, accepted) is True
    assert apply(client, accepted) is False  # a redelivery has no second effect

    mombasa, nairobi = listed(client, issuer, "ke-mombasa"), listed(client, issuer, "ke-nairobi")
    assert case_id not in mombasa and other in mombasa
    assert received_id in nairobi and case_id not in nairobi and other not in nairobi
    assert rows(database.owner, "SELECT tenant_id, subject_ref::text FROM known_cases WHERE case_id IN (:a, :b)",
                a=case_id, b=received_id) == [("ke-nairobi", subject)]


def test_a_transfer_event_that_misstates_its_tenant_moves_nothing(interventions, issuer):
    client, _ = interventions
    case_id, subject = str(uuid.uuid4()), str(uuid.uuid4())
    apply(client, Event(type="case.opened", tenant="ke-mombasa", topic="assessment.events", source="/t",
                        subject=subject, data={"case_id": case_id, "subject_ref": subject,
                                               "referral_id": str(uuid.uuid4()),
                                               "opened_at": datetime.now(UTC).isoformat()}))
    forged = Event(type="case.transfer_accepted", tenant="ke-kisumu", topic="assessment.events", source="/t",
                   subject=subject, data={"transfer_id": str(uuid.uuid4()), "case_id": case_id,
                                          "received_case_id": str(uuid.uuid4()), "subject_ref": subject,
                                          "from": "ke-mombasa", "to": "ke-nairobi",
                                          "opened_at": datetime.now(UTC).isoformat()})
    apply(client, forged)
    assert case_id in listed(client, issuer, "ke-mombasa")
    assert listed(client, issuer, "ke-kisumu") == set()
