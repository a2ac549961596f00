"""A case transferred between counties moves in interventions too: the sender no longer lists it."""

from __future__ import annotations

import uuid

from tests.interventions.support import apply, case_opened, transfer_accepted
from tests.support.services import rows


def listed(client, issuer, tenant: str) -> set[str]:
    headers = issuer.headers(tenants={tenant: ["case_worker"]}, scope="cases:read")
    response = client.get(f"/v1/tenants/{tenant}/cases", headers=headers)
    assert response.status_code == 200, response.text
    return {c["case_id"] for c in response.json()["items"]}


def test_accepted_transfer_moves_the_known_case_to_the_receiving_county(interventions, issuer):
    client, database = interventions
    case_id, received_id, subject = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    apply(client, case_opened("ke-mombasa", case_id=case_id, subject_ref=subject))
    other = uuid.uuid4()
    apply(client, case_opened("ke-mombasa", case_id=other, subject_ref=other))
    assert str(case_id) in listed(client, issuer, "ke-mombasa")

    accepted = transfer_accepted("ke-nairobi", case_id=case_id, received_case_id=received_id, subject_ref=subject,
                                 sender="ke-mombasa", receiver="ke-nairobi")
    assert apply(client, accepted) is True
    assert apply(client, accepted) is False  # a redelivery has no second effect

    mombasa, nairobi = listed(client, issuer, "ke-mombasa"), listed(client, issuer, "ke-nairobi")
    assert str(case_id) not in mombasa and str(other) in mombasa
    assert str(received_id) in nairobi and str(case_id) not in nairobi and str(other) not in nairobi
    assert rows(database.owner, "SELECT tenant_id, subject_ref::text FROM known_cases WHERE case_id IN (:a, :b)",
                a=case_id, b=received_id) == [("ke-nairobi", str(subject))]


def test_a_transfer_event_that_misstates_its_tenant_moves_nothing(interventions, issuer):
    client, _ = interventions
    case_id, subject = uuid.uuid4(), uuid.uuid4()
    apply(client, case_opened("ke-mombasa", case_id=case_id, subject_ref=subject))
    forged = transfer_accepted("ke-kisumu", case_id=case_id, received_case_id=uuid.uuid4(), subject_ref=subject,
                               sender="ke-mombasa", receiver="ke-nairobi")
    assert apply(client, forged) is True  # applied, and it does nothing: it fits the catalogue, not the tenants
    assert str(case_id) in listed(client, issuer, "ke-mombasa")
    assert listed(client, issuer, "ke-kisumu") == set()
