"""Interventions learns of cases from assessment's events, once each, and records every read of them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from tests.interventions.support import apply, case_opened
from tests.support.services import rows

TENANT = "ke-mombasa"


def case_worker(issuer, tenant: str = TENANT) -> dict[str, str]:
    return issuer.headers(tenants={tenant: ["case_worker"]}, scope="cases:read", sub="case_worker-1")


def test_case_opened_is_recorded_once_and_listed(interventions, issuer):
    client, database = interventions
    event = case_opened(TENANT)
    case_id, subject = event.data["case_id"], event.data["subject_ref"]
    assert apply(client, event) is True
    assert apply(client, event) is False
    assert rows(database.owner, "SELECT count(*) FROM known_cases WHERE case_id = :c", c=case_id)[0][0] == 1

    listed = client.get(f"/v1/tenants/{TENANT}/cases", headers=case_worker(issuer)).json()["items"]
    assert {"case_id": case_id, "subject_ref": subject}.items() <= next(
        c for c in listed if c["case_id"] == case_id).items()
    other = issuer.headers(tenants={"ke-nairobi": ["case_worker"]}, scope="cases:read")
    assert client.get(f"/v1/tenants/{TENANT}/cases", headers=other).status_code == 404


def test_listing_cases_records_a_read_of_each_persons_reference(interventions, issuer):
    client, database = interventions
    tenant = "ke-kilifi"
    event = case_opened(tenant)
    assert apply(client, event)

    response = client.get(f"/v1/tenants/{tenant}/cases", headers=case_worker(issuer, tenant))

    assert response.status_code == 200 and [c["case_id"] for c in response.json()["items"]] == [event.data["case_id"]]
    [recorded] = rows(database.owner, "SELECT topic, source, subject, data FROM outbox "
                      "WHERE type = 'access.recorded' AND tenant_id = :t", t=tenant)
    assert (recorded.topic, recorded.source, recorded.subject) == (
        "interventions.events", "/harambee/interventions", event.data["subject_ref"])
    assert recorded.data | {"actor": "case_worker-1", "roles": ["case_worker"],
                            "resource": f"case/{event.data['case_id']}",
                            "fields": ["case_id", "opened_at", "subject_ref"],
                            "purpose": "case-management"} == recorded.data


def test_cases_page_newest_first_and_the_cursor_continues_where_the_page_ended(interventions, issuer):
    client, _ = interventions
    tenant, start = "ke-lamu", datetime(2026, 1, 1, tzinfo=UTC)
    opened = [case_opened(tenant, opened_at=start + timedelta(days=n)) for n in range(3)]
    for event in opened:
        assert apply(client, event)
    url, headers = f"/v1/tenants/{tenant}/cases", case_worker(issuer, tenant)

    first = client.get(url, params={"limit": 2}, headers=headers).json()
    last = client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers).json()

    newest_first = [e.data["case_id"] for e in reversed(opened)]
    assert [c["case_id"] for c in first["items"]] == newest_first[:2] and first["next_cursor"]
    assert [c["case_id"] for c in last["items"]] == newest_first[2:] and last["next_cursor"] is None


def test_a_cursor_the_api_did_not_issue_is_a_client_error(interventions, issuer):
    client, _ = interventions
    forged = base64.urlsafe_b64encode(json.dumps([datetime.now(UTC).isoformat(), "not-a-uuid"]).encode()).decode()
    for cursor in (forged, "garbage"):
        response = client.get(f"/v1/tenants/{TENANT}/cases", params={"cursor": cursor}, headers=case_worker(issuer))
        assert response.status_code == 422, cursor
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"/v1/tenants/{TENANT}/cases", params={"cursor": "x" * 1001},
                      headers=case_worker(issuer)).status_code == 422
