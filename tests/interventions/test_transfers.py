"""A case transferred between counties moves in interventions too: the sender no longer lists it, and
its plan follows it as far as the sending county's agreement allows."""

from __future__ import annotations

import uuid

from tests.interventions.support import (
    Callers,
    apply,
    case_opened,
    consented_case,
    item,
    today,
    transfer_accepted,
    vetted_provider,
)
from tests.support.agreements import agreement_event, agreement_view
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


def transferred_plan(client, issuer, *, fields: list[str]) -> tuple[dict, dict, uuid.UUID, str]:
    """A planned Mombasa case moved to Nairobi under an agreement naming these fields:
    (the sender's plan, the receiver's plan or problem, the received case, the sender's provider organisation)."""
    sender, receiver = Callers(issuer, "ke-mombasa"), Callers(issuer, "ke-nairobi")
    provider_id, organisation = vetted_provider(client, sender.staff(), "ke-mombasa")
    case_id, subject, _ = consented_case(client, "ke-mombasa", needs=["education"])
    assert client.post(f"/v1/tenants/ke-mombasa/cases/{case_id}/plan", headers=sender.staff(),
                       json={"items": [item(provider_id, starts_on=today(client))]}).status_code == 201
    view = agreement_view(tenant="ke-mombasa", parties=[("tenant", "ke-nairobi")], operations=["transfer_cases"])
    view["data_categories"] = [{"name": "case", "sensitive": True, "fields": ["case_id", "subject_ref", *fields]}]
    apply(client, agreement_event(view))
    received = uuid.uuid4()
    assert apply(client, transfer_accepted("ke-nairobi", case_id=case_id, received_case_id=received,
                                           subject_ref=subject, sender="ke-mombasa", receiver="ke-nairobi",
                                           agreement_id=uuid.UUID(view["id"])))
    sent = client.get(f"/v1/tenants/ke-mombasa/cases/{case_id}/plan", headers=sender.staff()).json()
    moved = client.get(f"/v1/tenants/ke-nairobi/cases/{received}/plan", headers=receiver.staff()).json()
    return sent, moved, received, organisation


def test_the_plan_moves_with_the_case_when_the_agreement_names_it(interventions, issuer):
    client, database = interventions
    sent, moved, received, organisation = transferred_plan(client, issuer, fields=["plan"])
    assert sent["status"] == "closed" and sent["exit_reason"] == "relocation"
    assert [(i["status"], i["stop_reason"], i["goal"]) for i in sent["items"]] == [("stopped", "case_transferred", "")]
    [task] = client.get("/v1/tenants/ke-mombasa/tasks",
                        headers=Callers(issuer, "ke-mombasa").provider_system(organisation)).json()["items"]
    assert task["status"] == "stopped" and task["goal"] is None
    # The receiver holds the goals, without providers: its own staff assign its own vetted providers.
    assert moved["status"] == "active" and moved["items"] == [] and moved["case_id"] == str(received)
    [version] = client.get(f"/v1/tenants/ke-nairobi/cases/{received}/plan/versions",
                           headers=Callers(issuer, "ke-nairobi").staff()).json()["items"]
    assert version["reason"] == "transferred"
    assert [(i["need"], i["goal"]) for i in version["items"]] == [("education", "Back in a training course by March")]
    assert rows(database.owner, "SELECT count(*) FROM outbox WHERE type = 'plan.transferred' AND tenant_id = :t "
                "AND data->>'case_id' = :c", t="ke-nairobi", c=str(received)) == [(1,)]
    # The consent and needs moved with the case: Nairobi may plan for it.
    provider_id, _ = vetted_provider(client, Callers(issuer, "ke-nairobi").staff(), "ke-nairobi")
    replanned = client.put(f"/v1/tenants/ke-nairobi/cases/{received}/plan",
                           headers=Callers(issuer, "ke-nairobi").staff(),
                           json={"based_on_version": 1, "items": [item(provider_id, starts_on=today(client))]})
    assert replanned.status_code == 200, replanned.text


def test_the_plan_stays_behind_when_the_agreement_does_not_name_it(interventions, issuer):
    client, _ = interventions
    sent, moved, _, _ = transferred_plan(client, issuer, fields=[])
    assert sent["status"] == "closed" and sent["items"][0]["status"] == "stopped"
    assert moved["status"] == 404
