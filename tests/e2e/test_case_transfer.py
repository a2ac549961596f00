"""A person moves from Mombasa to Nairobi: Mombasa proposes the case's transfer under an agreement
between the two counties, Nairobi accepts, and the case lives in Nairobi from then on — in assessment
and in interventions — while Mombasa keeps only a stub. Everything through the gateway."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from authlib.integrations.httpx_client import OAuth2Client

from tests.e2e.helpers import REFERRAL, TENANT, accept, audit_entries, case_for, eventually, oauth_client

NAIROBI = "ke-nairobi"


def transfer_agreement(suffix: str) -> dict:
    """Mombasa (which discloses the case) lets Nairobi take cases over; the sender keeps nothing extra."""
    today = datetime.now(UTC).date()
    return {
        "reference": f"ke-mombasa-ke-nairobi-transfers-{suffix}",
        "title": "Transfer of cases from Mombasa to Nairobi",
        "purpose": "Continuity of support when a person in the Mombasa programme moves to Nairobi.",
        "parties": [
            {"kind": "tenant", "id": TENANT, "role": "controller", "lawful_basis": "public_interest"},
            {"kind": "tenant", "id": NAIROBI, "role": "recipient", "lawful_basis": "public_interest"},
        ],
        "data_categories": [{"name": "case_reference", "sensitive": True,
                             "fields": ["case_id", "subject_ref", "status", "opened_at"]}],
        "operations": ["transfer_cases"],
        "consent_required": False,
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "review_date": (today + timedelta(days=180)).isoformat(),
        "retention": {"days": 365, "then": "delete"},
    }


def nairobi_case_worker(stack, admin: OAuth2Client, suffix: str) -> OAuth2Client:
    """The demo data has no Nairobi staff: register a case-management client for Nairobi."""
    created = admin.post("/admin/v1/clients", json={
        "name": f"nairobi-case-worker-{suffix}",
        "grants": [{"tenant": NAIROBI, "roles": ["case_worker"], "scopes": ["cases:read"]}],
    })
    assert created.status_code == 201, created.text
    client = OAuth2Client(client_id=created.json()["client_id"], client_secret=created.json()["client_secret"],
                          base_url=stack.gateway_url, timeout=15)
    client.fetch_token(f"{stack.gateway_url}/oauth/token", grant_type="client_credentials")
    return client


def known_cases(client: OAuth2Client, tenant: str) -> set[str]:
    """The case ids interventions lists in a tenant (the newest 500)."""
    response = client.get(f"/interventions/v1/tenants/{tenant}/cases", params={"limit": 500})
    assert response.status_code == 200, response.text
    return {c["case_id"] for c in response.json()["items"]}


@pytest.fixture
def demo_transfers_suspended(stack) -> Iterator[None]:
    """The demo data's own transfer agreement, suspended for the test and reinstated after it.

    It reaches assessment while the test's case is made, so the test's first proposal would find it in
    force; the session's other end-to-end tests see the demo data as seeded.
    """
    admin = oauth_client(stack, "platform-admin")
    demo = next(a for a in admin.get("/admin/v1/agreements", params={"limit": 100}).json()["items"]
                if a["reference"] == "ke-mombasa-ke-nairobi-case-transfers")
    assert admin.post(f"/admin/v1/agreements/{demo['id']}/suspend", json={"reason": "test"}).status_code == 200
    yield
    reinstated = admin.post(f"/admin/v1/agreements/{demo['id']}/activate")
    assert reinstated.status_code == 200, reinstated.text


@pytest.fixture
def admin(stack) -> Iterator[OAuth2Client]:
    """The platform administrator; agreements the test creates are terminated after it."""
    client = oauth_client(stack, "platform-admin")
    before = {a["id"] for a in client.get("/admin/v1/agreements", params={"limit": 100}).json()["items"]}
    yield client
    for agreement in client.get("/admin/v1/agreements", params={"limit": 100}).json()["items"]:
        if agreement["id"] not in before and agreement["status"] != "terminated":
            ended = client.post(f"/admin/v1/agreements/{agreement['id']}/terminate", json={"reason": "test ended"})
            assert ended.status_code == 200, ended.text


@pytest.mark.usefixtures("demo_transfers_suspended")
def test_a_case_moves_from_mombasa_to_nairobi_under_their_agreement(stack, admin):
    suffix = uuid.uuid4().hex[:6]
    partner = oauth_client(stack, "cso")
    mombasa = oauth_client(stack, "case-worker")
    intake_officer = oauth_client(stack, "intake-officer")
    compliance = oauth_client(stack, "compliance")
    nairobi = nairobi_case_worker(stack, admin, suffix)

    def submitted():  # the partner's agreement reaches intake as an event after the stack starts
        response = partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=REFERRAL)
        assert response.status_code in (201, 403), response.text
        return response.json()["id"] if response.status_code == 201 else None

    referral_id = eventually(submitted, timeout=60, interval=1)
    accept(intake_officer, referral_id)
    case = eventually(lambda: case_for(mombasa, referral_id))
    subject = case["subject_ref"]
    eventually(lambda: case["id"] in known_cases(mombasa, TENANT))
    propose_url = f"/assessment/v1/tenants/{TENANT}/cases/{case['id']}/transfers"
    proposal = {"to": NAIROBI, "reason": "relocation", "note": "Family moved to Nairobi."}

    refused = mombasa.post(propose_url, json=proposal)  # the demo agreement was suspended at the start
    assert refused.status_code == 403 and refused.json()["type"].endswith("/no-agreement")

    agreement = admin.post("/admin/v1/agreements", json=transfer_agreement(suffix))
    assert agreement.status_code == 201, agreement.text
    activated = admin.post(f"/admin/v1/agreements/{agreement.json()['id']}/activate")
    assert activated.status_code == 200, activated.text

    def proposed():  # the agreement reaches assessment as an event, within seconds
        response = mombasa.post(propose_url, json=proposal)
        assert response.status_code in (201, 403), response.text
        return response.json() if response.status_code == 201 else None

    transfer = eventually(proposed, timeout=60, interval=1)
    assert transfer["status"] == "proposed" and transfer["agreement_id"] == agreement.json()["id"]

    def arrived():
        response = nairobi.get(f"/assessment/v1/tenants/{NAIROBI}/transfers",
                               params={"direction": "incoming", "status": "proposed"})
        assert response.status_code == 200, response.text
        return [t for t in response.json()["items"] if t["id"] == transfer["id"]]

    [incoming] = eventually(arrived)
    assert incoming["subject_ref"] == subject and incoming["from_tenant"] == TENANT and incoming["note"] is None
    assert nairobi.get(f"/assessment/v1/tenants/{NAIROBI}/cases/{case['id']}").status_code == 404
    assert nairobi.get(f"/assessment/v1/tenants/{TENANT}/cases").status_code == 404

    accepted = nairobi.post(f"/assessment/v1/tenants/{NAIROBI}/transfers/{transfer['id']}/accept", json={})
    assert accepted.status_code == 200, accepted.text
    received_id = accepted.json()["received_case_id"]
    received = nairobi.get(f"/assessment/v1/tenants/{NAIROBI}/cases/{received_id}").json()
    assert received["subject_ref"] == subject and received["transferred_from"] == transfer["id"]

    def minimised():
        stub = mombasa.get(f"/assessment/v1/tenants/{TENANT}/cases/{case['id']}").json()
        return stub if stub["status"] == "transferred" else None

    stub = eventually(minimised)
    assert stub["subject_ref"] is None and stub["referral_id"] is None and stub["transfer_id"] == transfer["id"]

    eventually(lambda: case["id"] not in known_cases(mombasa, TENANT) and received_id in known_cases(nairobi, NAIROBI))

    def audited():
        types = {e["type"] for e in audit_entries(compliance, subject=subject)}
        return types if {"case.transfer_proposed", "case.transferred"} <= types else None

    types = eventually(audited)
    assert "case.opened" in types

    # Intake moved the person's identity with the case: Mombasa's log records the release, and Mombasa's
    # intake can no longer re-identify them.
    eventually(lambda: "subject.released" in {e["type"] for e in audit_entries(compliance, subject=subject)},
               timeout=60, interval=1)
    reidentified = intake_officer.post(f"/intake/v1/tenants/{TENANT}/subjects/{subject}/re-identification",
                                       json={"purpose": "contact_person", "reason": "Arrange a meeting."})
    assert reidentified.status_code == 404, reidentified.text
    for entry in audit_entries(compliance, subject=subject):
        assert "Family moved" not in str(entry)
