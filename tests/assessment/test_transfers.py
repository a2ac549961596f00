"""Case transfer between counties: the sender proposes under an agreement, the receiver accepts or
refuses; after acceptance the case lives in the receiving county and the sender keeps only a stub."""

from __future__ import annotations

from typing import Any

from harambee_common.events import Event
from tests.assessment.support import deliver, referral_accepted
from tests.support.agreements import agreement_event, agreement_view
from tests.support.services import rows

NOTE = "Moved in with an aunt in Eastleigh after the school term."


def deliver_outbox(client, database, type_: str, transfer_id: str) -> dict[str, Any]:
    """Delivers the service's own event of one transfer from its outbox to its consumer; returns its data."""
    [row] = rows(database.owner, "SELECT id, tenant_id, topic, type, source, subject, time, data FROM outbox "
                 "WHERE type = :t AND data->>'transfer_id' = :x", t=type_, x=transfer_id)
    deliver(client, Event(type=row.type, tenant=row.tenant_id, topic=row.topic, source=row.source,
                          subject=row.subject, data=row.data, id=str(row.id), time=row.time))
    assert rows(database.owner, "SELECT 1 FROM processed_events WHERE consumer = 'assessment' AND event_id = :e "
                "AND outcome = 'applied'", e=str(row.id))
    return row.data


def open_case(client, database, tenant: str) -> dict[str, Any]:
    """Opens a case in the tenant from a referral.accepted event; returns its row."""
    event = referral_accepted(tenant)
    deliver(client, event)
    [case] = rows(database.owner, "SELECT * FROM cases WHERE referral_id = :r", r=event.data["referral_id"])
    return case._asdict()


def agree(client, sender: str, receiver: str, **terms: Any) -> dict[str, Any]:
    """An agreement in force in the sending county that lets it transfer cases to the receiver."""
    view = {**agreement_view(tenant=sender, parties=[("tenant", receiver)], operations=["transfer_cases"]),
            **terms}
    deliver(client, agreement_event(view))
    return view


def staff(issuer, tenant: str, role: str = "case_worker") -> dict[str, str]:
    return issuer.headers(tenants={tenant: [role]}, scope="cases:read", sub=f"{role}@{tenant}")


def propose(client, issuer, sender: str, case_id: Any, receiver: str, **body: Any):
    return client.post(f"/v1/tenants/{sender}/cases/{case_id}/transfers", headers=staff(issuer, sender),
                       json={"to": receiver, "reason": "relocation", **body})


def incoming(client, issuer, tenant: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/tenants/{tenant}/transfers", params={"direction": "incoming"},
                          headers=staff(issuer, tenant, "programme_manager"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_proposal_without_an_agreement_is_refused_and_the_refusal_is_recorded(assessment, issuer):
    client, database = assessment
    case = open_case(client, database, "ke-kwale")

    response = propose(client, issuer, "ke-kwale", case["id"], "ke-kilifi")

    assert response.status_code == 403 and response.json()["type"].endswith("/no-agreement")
    assert response.headers["content-type"] == "application/problem+json"
    [refused] = rows(database.owner, "SELECT data FROM outbox WHERE type = 'agreement.refused' AND tenant_id = :t "
                     "AND data->'party'->>'id' = 'ke-kilifi'", t="ke-kwale")
    assert refused.data["party"] == {"kind": "tenant", "id": "ke-kilifi"}
    assert refused.data["operation"] == "transfer_cases" and refused.data["actor"] == "case_worker@ke-kwale"
    assert not rows(database.owner, "SELECT 1 FROM case_transfers WHERE case_id = :c", c=case["id"])
    assert not rows(database.owner, "SELECT 1 FROM outbox WHERE type = 'case.transfer_proposed' "
                    "AND data->>'case_id' = :c", c=str(case["id"]))


def test_an_agreement_the_other_way_round_does_not_let_the_sender_transfer(assessment, issuer):
    client, database = assessment
    agree(client, "ke-lamu", "ke-kwale")  # Lamu may send to Kwale; Kwale may not send to Lamu
    case = open_case(client, database, "ke-kwale")
    assert propose(client, issuer, "ke-kwale", case["id"], "ke-lamu").status_code == 403


def test_only_case_workers_and_programme_managers_propose(assessment, issuer):
    client, database = assessment
    case = open_case(client, database, "ke-kwale")
    for role, refused in (("intake_officer", 403), ("compliance_officer", 403), ("partner", 404)):
        response = client.post(f"/v1/tenants/ke-kwale/cases/{case['id']}/transfers",
                               headers=staff(issuer, "ke-kwale", role), json={"to": "ke-kilifi", "reason": "other"})
        assert response.status_code == refused, role  # a partner is not even told there is such a case
    response = propose(client, issuer, "ke-kwale", case["id"], "ke-kwale")
    assert response.status_code == 422  # not to its own county


def test_accepted_transfer_moves_the_case_and_leaves_the_sender_a_minimal_stub(assessment, issuer):
    client, database = assessment
    agreement = agree(client, "ke-mombasa", "ke-nairobi")
    case = open_case(client, database, "ke-mombasa")
    other = open_case(client, database, "ke-mombasa")

    response = propose(client, issuer, "ke-mombasa", case["id"], "ke-nairobi", note=NOTE)
    assert response.status_code == 201, response.text
    proposal = response.json()
    assert proposal | {"direction": "outgoing", "status": "proposed", "from_tenant": "ke-mombasa",
                       "to_tenant": "ke-nairobi", "agreement_id": agreement["id"]} == proposal
    transfer_id = proposal["id"]
    [applied] = rows(database.owner, "SELECT data FROM outbox WHERE type = 'agreement.applied' "
                     "AND data->>'agreement_id' = :a", a=agreement["id"])
    assert applied.data["operation"] == "transfer_cases"
    assert propose(client, issuer, "ke-mombasa", case["id"], "ke-nairobi").status_code == 409  # one at a time

    # The receiving county learns of it from the event (its consumer applied it, see deliver_outbox).
    sent = deliver_outbox(client, database, "case.transfer_proposed", transfer_id)
    assert set(sent) == {"transfer_id", "case_id", "subject_ref", "from", "to", "reason", "actor",
                         "agreement_id", "agreement_version", "proposed_at"}
    [arrived] = [t for t in incoming(client, issuer, "ke-nairobi") if t["id"] == transfer_id]
    assert arrived | {"status": "proposed", "from_tenant": "ke-mombasa", "subject_ref": str(case["subject_ref"]),
                      "reason": "relocation", "note": None} == arrived  # the sender's note stays with the sender
    assert rows(database.owner, "SELECT 1 FROM outbox WHERE type = 'case.transfer_received' AND tenant_id = "
                "'ke-nairobi' AND data->>'transfer_id' = :x", x=transfer_id)

    # A third county sees nothing of it; the receiving county sees nothing else of the sender.
    assert incoming(client, issuer, "ke-kisumu") == []
    assert client.get(f"/v1/tenants/ke-kisumu/transfers/{transfer_id}",
                      headers=staff(issuer, "ke-kisumu")).status_code == 404
    assert client.post(f"/v1/tenants/ke-kisumu/transfers/{transfer_id}/accept",
                       headers=staff(issuer, "ke-kisumu")).status_code == 404
    nairobi = staff(issuer, "ke-nairobi")
    for sender_case in (case, other):
        assert client.get(f"/v1/tenants/ke-nairobi/cases/{sender_case['id']}", headers=nairobi).status_code == 404
    assert client.get("/v1/tenants/ke-mombasa/cases", headers=nairobi).status_code == 404
    assert client.post(f"/v1/tenants/ke-mombasa/transfers/{transfer_id}/accept", headers=nairobi).status_code == 404
    # The sender cannot accept its own proposal.
    assert client.post(f"/v1/tenants/ke-mombasa/transfers/{transfer_id}/accept",
                       headers=staff(issuer, "ke-mombasa")).status_code == 404

    response = client.post(f"/v1/tenants/ke-nairobi/transfers/{transfer_id}/accept", headers=nairobi,
                           json={"note": "Allocated to the Eastleigh team."})
    assert response.status_code == 200, response.text
    received_id = response.json()["received_case_id"]
    received = client.get(f"/v1/tenants/ke-nairobi/cases/{received_id}", headers=nairobi).json()
    assert received | {"subject_ref": str(case["subject_ref"]), "referral_id": None, "status": "open",
                       "transferred_from": transfer_id} == received
    assert {c["id"] for c in client.get("/v1/tenants/ke-nairobi/cases", headers=nairobi).json()["items"]} \
        .isdisjoint({str(case["id"]), str(other["id"])})
    assert client.post(f"/v1/tenants/ke-nairobi/transfers/{transfer_id}/accept", headers=nairobi).status_code == 409

    # The sending county's consumer closes and minimises its case.
    accepted = deliver_outbox(client, database, "case.transfer_accepted", transfer_id)
    assert accepted["received_case_id"] == received_id and accepted["case_id"] == str(case["id"])
    mombasa = staff(issuer, "ke-mombasa")
    stub = client.get(f"/v1/tenants/ke-mombasa/cases/{case['id']}", headers=mombasa).json()
    assert stub | {"status": "transferred", "subject_ref": None, "referral_id": None,
                   "transfer_id": transfer_id} == stub and stub["closed_at"]
    [stored] = rows(database.owner, "SELECT subject_ref, referral_id FROM cases WHERE id = :c", c=case["id"])
    assert stored == (None, None)
    outgoing = client.get(f"/v1/tenants/ke-mombasa/transfers/{transfer_id}", headers=mombasa).json()
    assert outgoing | {"status": "accepted", "subject_ref": None, "note": None} == outgoing
    [transferred] = rows(database.owner, "SELECT data FROM outbox WHERE type = 'case.transferred' "
                         "AND tenant_id = 'ke-mombasa' AND data->>'transfer_id' = :x", x=transfer_id)
    assert transferred.data["retained"] == []
    untouched = client.get(f"/v1/tenants/ke-mombasa/cases/{other['id']}", headers=mombasa).json()
    assert untouched["status"] == "open" and untouched["subject_ref"] == str(other["subject_ref"])
    assert propose(client, issuer, "ke-mombasa", case["id"], "ke-nairobi").status_code == 409

    # Notes never travel: no event of this transfer holds one.
    for event in rows(database.owner, "SELECT data::text AS data FROM outbox WHERE data::text LIKE :x",
                      x=f"%{transfer_id}%"):
        assert "Eastleigh" not in event.data


def test_refused_transfer_leaves_the_senders_case_open(assessment, issuer):
    client, database = assessment
    agree(client, "ke-nakuru", "ke-kericho")
    case = open_case(client, database, "ke-nakuru")
    transfer_id = propose(client, issuer, "ke-nakuru", case["id"], "ke-kericho").json()["id"]
    deliver_outbox(client, database, "case.transfer_proposed", transfer_id)

    kericho = staff(issuer, "ke-kericho", "programme_manager")
    assert client.post(f"/v1/tenants/ke-kericho/transfers/{transfer_id}/refuse", headers=kericho,
                       json={"reason": "because"}).status_code == 422
    response = client.post(f"/v1/tenants/ke-kericho/transfers/{transfer_id}/refuse", headers=kericho,
                           json={"reason": "not_resident", "note": "No record of residence."})
    assert response.status_code == 200, response.text
    assert response.json() | {"status": "refused", "decision_reason": "not_resident", "subject_ref": None} \
        == response.json()  # the refusing county forgets whom it was about
    assert not rows(database.owner, "SELECT 1 FROM cases WHERE transferred_from = :x", x=transfer_id)

    refused = deliver_outbox(client, database, "case.transfer_refused", transfer_id)
    assert refused["decision_reason"] == "not_resident" and "note" not in refused
    nakuru = staff(issuer, "ke-nakuru")
    still = client.get(f"/v1/tenants/ke-nakuru/cases/{case['id']}", headers=nakuru).json()
    assert still["status"] == "open" and still["subject_ref"] == str(case["subject_ref"])
    outgoing = client.get(f"/v1/tenants/ke-nakuru/transfers/{transfer_id}", headers=nakuru).json()
    assert outgoing["status"] == "refused" and outgoing["decision_reason"] == "not_resident"
    assert rows(database.owner, "SELECT 1 FROM outbox WHERE type = 'case.transfer_refusal_recorded' "
                "AND tenant_id = 'ke-nakuru' AND data->>'transfer_id' = :x", x=transfer_id)
    assert propose(client, issuer, "ke-nakuru", case["id"], "ke-kericho").status_code == 201  # may try again


def test_suspending_the_agreement_stops_a_pending_transfer(assessment, issuer):
    client, database = assessment
    agreement = agree(client, "ke-garissa", "ke-wajir")
    case = open_case(client, database, "ke-garissa")
    transfer_id = propose(client, issuer, "ke-garissa", case["id"], "ke-wajir").json()["id"]
    deliver_outbox(client, database, "case.transfer_proposed", transfer_id)
    deliver(client, agreement_event({**agreement, "version": 2, "status": "suspended"}))

    response = client.post(f"/v1/tenants/ke-wajir/transfers/{transfer_id}/accept", headers=staff(issuer, "ke-wajir"))

    assert response.status_code == 403 and response.json()["type"].endswith("/no-agreement")
    [refused] = rows(database.owner, "SELECT data FROM outbox WHERE type = 'agreement.refused' AND tenant_id = :t",
                     t="ke-wajir")
    assert refused.data["agreement_id"] == agreement["id"] and refused.data["agreement_version"] == 2
    assert not rows(database.owner, "SELECT 1 FROM cases WHERE transferred_from = :x", x=transfer_id)
    [pending] = rows(database.owner, "SELECT status FROM case_transfers WHERE id = :x AND tenant_id = 'ke-wajir'",
                     x=transfer_id)
    assert pending.status == "proposed"


def test_the_agreement_decides_what_the_sender_keeps(assessment, issuer):
    client, database = assessment
    categories = [{"name": "case_reference", "sensitive": False, "fields": ["case_id", "subject_ref"]},
                  {"name": "retained_by_sender", "sensitive": False, "fields": ["referral_id", "notes"]}]
    agree(client, "ke-kisumu", "ke-siaya", data_categories=categories)
    case = open_case(client, database, "ke-kisumu")
    transfer_id = propose(client, issuer, "ke-kisumu", case["id"], "ke-siaya").json()["id"]
    deliver_outbox(client, database, "case.transfer_proposed", transfer_id)
    assert client.post(f"/v1/tenants/ke-siaya/transfers/{transfer_id}/accept",
                       headers=staff(issuer, "ke-siaya")).status_code == 200
    deliver_outbox(client, database, "case.transfer_accepted", transfer_id)

    [stored] = rows(database.owner, "SELECT status, subject_ref, referral_id FROM cases WHERE id = :c", c=case["id"])
    assert stored == ("transferred", None, case["referral_id"])


def test_each_county_holds_only_its_own_side_of_a_transfer(assessment, issuer):
    client, database = assessment
    agree(client, "ke-embu", "ke-meru")
    case = open_case(client, database, "ke-embu")
    transfer_id = propose(client, issuer, "ke-embu", case["id"], "ke-meru").json()["id"]
    deliver_outbox(client, database, "case.transfer_proposed", transfer_id)

    app_url = client.app.state.settings.database_url  # the service's role: row-level security applies
    query = "SELECT tenant_id, direction FROM case_transfers WHERE id = :x"
    assert rows(app_url, query, x=transfer_id) == []  # no tenant set: nothing
    assert rows(app_url, query, tenant="ke-embu", x=transfer_id) == [("ke-embu", "outgoing")]
    assert rows(app_url, query, tenant="ke-meru", x=transfer_id) == [("ke-meru", "incoming")]
    assert rows(app_url, query, tenant="ke-kisumu", x=transfer_id) == []
