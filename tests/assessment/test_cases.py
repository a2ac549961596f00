"""Assessment opens a case per referral and shows it to programme staff only."""

from __future__ import annotations

import uuid

import pytest

from harambee_common.events import Event
from tests.support.services import rows, running_service

TENANT = "ke-mombasa"


@pytest.fixture(scope="module")
def assessment(postgres, broker, issuer):
    with running_service("assessment", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


def deliver_referral(client, *, tenant: str = TENANT) -> Event:
    """Hands a referral.accepted event to the running app's consumer, as the broker would."""
    subject = str(uuid.uuid4())
    event = Event(type="referral.accepted", tenant=tenant, topic="intake.events",
                  source="/harambee/intake", subject=subject,
                  data={"referral_id": str(uuid.uuid4()), "subject_ref": subject})
    consumer = next(w for w in client.app.state.workers if hasattr(w, "apply"))
    assert consumer.apply(event.topic, event.headers(), event.value())
    return event


def case_worker(issuer, tenant: str = TENANT) -> dict[str, str]:
    return issuer.headers(tenants={tenant: ["case_worker"]}, scope="cases:read")


def test_case_worker_finds_the_case_opened_for_a_referral(assessment, issuer):
    client, database = assessment
    event = deliver_referral(client)
    response = client.get(f"/v1/tenants/{TENANT}/cases",
                          params={"referral_id": event.data["referral_id"]}, headers=case_worker(issuer))
    assert response.status_code == 200
    [case] = response.json()["items"]
    assert case["subject_ref"] == event.subject and case["status"] == "open"
    one = client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}", headers=case_worker(issuer))
    assert one.status_code == 200 and one.json()["referral_id"] == event.data["referral_id"]
    recorded = rows(database.owner, "SELECT count(*) FROM outbox WHERE type = 'access.recorded' "
                    "AND data->>'resource' = :r", r=f"case/{case['id']}")
    assert recorded[0][0] == 2


def test_partner_may_not_read_cases(assessment, issuer):
    client, _ = assessment
    partner = issuer.headers(tenants={TENANT: ["partner"]}, scope="cases:read referrals:read", org="cso")
    assert client.get(f"/v1/tenants/{TENANT}/cases", headers=partner).status_code == 403


def test_another_tenants_case_is_not_found(assessment, issuer):
    client, _ = assessment
    event = deliver_referral(client, tenant="ke-nairobi")
    nairobi_case = rows(client.app.state.settings.database_url.replace("assessment_app", "assessment_owner"),
                        "SELECT id FROM cases WHERE referral_id = :r", r=event.data["referral_id"])[0].id
    response = client.get(f"/v1/tenants/{TENANT}/cases/{nairobi_case}", headers=case_worker(issuer))
    assert response.status_code == 404
    response = client.get(f"/v1/tenants/ke-nairobi/cases/{nairobi_case}", headers=case_worker(issuer))
    assert response.status_code == 404  # a Mombasa case worker has no role in Nairobi


def test_malformed_case_id_and_cursor_are_client_errors(assessment, issuer):
    client, _ = assessment
    response = client.get(f"/v1/tenants/{TENANT}/cases/not-a-uuid", headers=case_worker(issuer))
    assert response.status_code == 422
    response = client.get(f"/v1/tenants/{TENANT}/cases?cursor=garbage", headers=case_worker(issuer))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_only_an_accepted_referral_opens_a_case(assessment, issuer):
    client, database = assessment
    subject = str(uuid.uuid4())
    received = Event(type="referral.received", tenant=TENANT, topic="intake.events", source="/harambee/intake",
                     subject=subject, data={"referral_id": str(uuid.uuid4()), "subject_ref": subject})
    consumer = next(w for w in client.app.state.workers if hasattr(w, "apply"))
    consumer.apply(received.topic, received.headers(), received.value())
    assert rows(database.owner, "SELECT count(*) FROM cases WHERE subject_ref = :s", s=subject)[0][0] == 0
