"""Partner systems act only under a data-sharing agreement in force; programme staff act for the tenant."""

from __future__ import annotations

import uuid

import pytest

from tests.intake.helpers import Desk, agree, person, referral
from tests.support.services import rows, running_service


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


@pytest.fixture
def desk(intake, issuer) -> Desk:
    return Desk(intake[0], issuer, tenant=f"ke-agreements-{uuid.uuid4().hex[:8]}")  # no agreement yet


def test_a_partner_without_an_agreement_is_refused_and_the_refusal_recorded(intake, desk):
    _, database = intake
    response = desk.client.post(f"{desk.base}/referrals", json=referral(), headers=desk.partner("unknown-cso"))
    assert response.status_code == 403 and response.json()["type"].endswith("/no-agreement")
    assert rows(database.owner, "SELECT count(*) FROM referrals WHERE tenant_id = :t", t=desk.tenant)[0][0] == 0
    [refused] = rows(database.owner, "SELECT data FROM outbox WHERE type = 'agreement.refused' AND tenant_id = :t",
                     t=desk.tenant)
    assert refused.data["party"] == {"kind": "organisation", "id": "unknown-cso"}
    assert refused.data["operation"] == "submit_referrals"


def test_an_agreement_permits_only_the_operations_it_lists(intake, desk):
    _, database = intake
    published = agree(desk.client, desk.tenant, "submit-only-cso", operations=("submit_referrals",))
    partner = desk.partner("submit-only-cso")
    created = desk.client.post(f"{desk.base}/referrals", json=referral(), headers=partner)
    assert created.status_code == 201, created.text
    assert desk.get(f"/referrals/{created.json()['id']}", headers=partner).status_code == 403
    assert desk.post("/webhooks", {"url": "https://partner.example.org/hook"}, headers=partner).status_code == 403
    applied = rows(database.owner, "SELECT data FROM outbox WHERE type = 'agreement.applied' AND tenant_id = :t",
                   t=desk.tenant)
    assert [a.data["agreement_id"] for a in applied] == [published["id"]]


def test_suspending_the_agreement_stops_the_partner_at_once(desk):
    published = agree(desk.client, desk.tenant, "suspended-cso")
    partner = desk.partner("suspended-cso")
    created = desk.client.post(f"{desk.base}/referrals", json=referral(), headers=partner)
    assert created.status_code == 201
    agree(desk.client, desk.tenant, "suspended-cso", agreement_id=published["id"], version=2, status="suspended")
    assert desk.get(f"/referrals/{created.json()['id']}", headers=partner).status_code == 403
    assert desk.client.post(f"{desk.base}/referrals", json=referral(), headers=partner).status_code == 403


def test_programme_staff_need_no_agreement_with_their_own_tenant(intake, desk):
    _, database = intake
    created = desk.client.post(f"{desk.base}/referrals", json={
        "person": person("Juma", "Bakari", "2004-04-04"), "source_type": "family_or_friend",
        "concern": "His uncle came to the office.", "indicators": ["threats_of_violence"]}, headers=desk.officer())
    assert created.status_code == 201
    assert desk.get("/referrals").status_code == 200
    decisions = rows(database.owner, "SELECT count(*) FROM outbox WHERE tenant_id = :t AND type LIKE 'agreement.%'",
                     t=desk.tenant)
    assert decisions[0][0] == 0
