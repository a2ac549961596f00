"""Assessment opens a case per referral and shows it to programme staff only."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

from harambee_common.events import Event
from tests.assessment.support import deliver, referral_accepted
from tests.support.services import rows

TENANT = "ke-mombasa"


def deliver_referral(client, *, tenant: str = TENANT) -> Event:
    """Hands a referral.accepted event to the running app's consumer, as the broker would."""
    event = referral_accepted(tenant)
    assert deliver(client, event)
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
    assert client.get(f"/v1/tenants/{TENANT}/cases", headers=partner).status_code == 404  # nothing here for it


def test_another_tenants_case_is_not_found(assessment, issuer):
    client, database = assessment
    event = deliver_referral(client, tenant="ke-nairobi")
    nairobi_case = rows(database.owner, "SELECT id FROM cases WHERE referral_id = :r",
                        r=event.data["referral_id"])[0].id
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


def test_a_cursor_whose_id_is_not_a_uuid_is_a_client_error(assessment, issuer):
    client, _ = assessment
    forged = base64.urlsafe_b64encode(json.dumps([datetime.now(UTC).isoformat(), "not-a-uuid"]).encode()).decode()
    for path in ("cases", "transfers"):
        headers = issuer.headers(tenants={TENANT: ["case_worker"]}, scope="cases:read")
        response = client.get(f"/v1/tenants/{TENANT}/{path}", params={"cursor": forged}, headers=headers)
        assert response.status_code == 422, path
        assert response.headers["content-type"] == "application/problem+json"


def test_cases_page_newest_first_and_the_cursor_continues_where_the_page_ended(assessment, issuer):
    client, _ = assessment
    tenant = "ke-lamu"
    opened = [deliver_referral(client, tenant=tenant).data["referral_id"] for _ in range(3)]
    url, headers = f"/v1/tenants/{tenant}/cases", case_worker(issuer, tenant)

    first = client.get(url, params={"limit": 2}, headers=headers).json()
    last = client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers).json()

    referrals = [c["referral_id"] for c in first["items"] + last["items"]]
    assert referrals == list(reversed(opened)) and first["next_cursor"] and last["next_cursor"] is None


def test_only_an_accepted_referral_opens_a_case(assessment, issuer):
    client, database = assessment
    subject = str(uuid.uuid4())
    received = Event(type="referral.received", tenant=TENANT, topic="intake.events", source="/harambee/intake",
                     subject=subject, data={"referral_id": str(uuid.uuid4()), "subject_ref": subject})
    deliver(client, received)
    assert rows(database.owner, "SELECT count(*) FROM cases WHERE subject_ref = :s", s=subject)[0][0] == 0
