"""Intake's referral API against the real PostgreSQL and broker."""

from __future__ import annotations

import datetime
import json

import pytest
import sqlalchemy

from tests.intake.helpers import agree
from tests.support.services import rows, running_service

TENANT = "ke-mombasa"
REFERRAL = {
    "person": {"given_name": "Amina", "family_name": "Wanjiru", "date_of_birth": "2008-04-02",
               "phone": "+254700000001"},
    "source_type": "education",
    "concern": "Withdrawn from classmates; shares videos glorifying attacks.",
    "indicators": ["sharing_violent_material"],
}


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        for tenant in (TENANT,):
            agree(running[0], tenant)
        yield running


def partner(issuer, org: str = "mombasa-youth-cso", tenant: str = TENANT) -> dict[str, str]:
    return issuer.headers(tenants={tenant: ["partner"]}, scope="referrals:write referrals:read", org=org)


def case_worker(issuer) -> dict[str, str]:
    return issuer.headers(tenants={TENANT: ["case_worker"]}, scope="referrals:read cases:read")


def submit(client, headers) -> dict:
    response = client.post(f"/v1/tenants/{TENANT}/referrals", json=REFERRAL, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_partner_submits_a_referral_and_sees_only_its_status(intake, issuer):
    client, _ = intake
    created = submit(client, partner(issuer))
    assert set(created) == {"id", "status", "received_at"}
    assert created["status"] == "received"

    response = client.get(f"/v1/tenants/{TENANT}/referrals/{created['id']}", headers=partner(issuer))
    assert response.status_code == 200
    assert set(response.json()) == {"id", "status", "received_at"}


def test_identity_is_stored_only_as_ciphertext(intake, issuer):
    client, database = intake
    submit(client, partner(issuer))
    dump = json.dumps([list(map(str, r)) for r in rows(database.owner, "SELECT * FROM subjects")])
    dump += json.dumps([list(map(str, r)) for r in rows(database.owner, "SELECT * FROM referrals")])
    for value in ("Amina", "Wanjiru", "2008-04-02", "+254700000001"):
        assert value not in dump


def test_referral_received_event_carries_references_not_identity(intake, issuer):
    client, database = intake
    created = submit(client, partner(issuer))
    events = rows(database.owner, "SELECT type, data FROM outbox WHERE data->>'referral_id' = :id",
                  id=created["id"])
    assert [e.type for e in events] == ["referral.received"]
    data = events[0].data
    assert data["referral_id"] == created["id"] and data["subject_ref"]
    assert "Amina" not in json.dumps(data) and "Wanjiru" not in json.dumps(data)


def test_referral_received_event_carries_the_codes_monitoring_counts_by(intake, issuer):
    client, database = intake
    body = {**REFERRAL, "person": {**REFERRAL["person"], "gender": "female"},
            "indicators": ["sharing_violent_material", "grievance_or_injustice", "change_in_religious_practice"]}
    response = client.post(f"/v1/tenants/{TENANT}/referrals", json=body, headers=partner(issuer))
    [event] = rows(database.owner, "SELECT data FROM outbox WHERE type = 'referral.received' "
                   "AND data->>'referral_id' = :id", id=response.json()["id"])
    data = event.data
    # Born 2008-04-02: a minor in a band, never the date itself.
    born = datetime.date(2008, 4, 2)
    today = datetime.datetime.now(datetime.UTC).date()
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    assert data["is_minor"] is (years < 18)
    assert data["age_band"] == ("15_17" if years < 18 else "18_24")
    assert data["gender"] == "female" and data["source_type"] == "education"
    assert data["indicators"] == ["change_in_religious_practice", "grievance_or_injustice", "sharing_violent_material"]
    assert data["concern_types"] == ["behaviour", "belief", "context"]
    assert "date_of_birth" not in data and "2008-04-02" not in json.dumps(data)


def test_partner_cannot_read_another_partners_referral(intake, issuer):
    client, _ = intake
    created = submit(client, partner(issuer, org="mombasa-youth-cso"))
    other = partner(issuer, org="another-cso")
    assert client.get(f"/v1/tenants/{TENANT}/referrals/{created['id']}", headers=other).status_code == 404
    listed = client.get(f"/v1/tenants/{TENANT}/referrals?limit=500", headers=other).json()["items"]
    assert created["id"] not in {item["id"] for item in listed}


def test_case_worker_read_is_recorded_with_who_read_it(intake, issuer):
    client, database = intake
    created = submit(client, partner(issuer))
    response = client.get(f"/v1/tenants/{TENANT}/referrals/{created['id']}", headers=case_worker(issuer))
    assert response.status_code == 200
    assert response.json()["concern"] == REFERRAL["concern"]
    assert "person" not in response.json()
    access = rows(database.owner, "SELECT data FROM outbox WHERE type = 'access.recorded' "
                  "AND data->>'resource' = :r", r=f"referral/{created['id']}")
    assert len(access) == 1
    assert access[0].data["actor"] == "officer-1" and access[0].data["purpose"]


def test_list_pages_with_a_cursor(intake, issuer):
    client, _ = intake
    org = "paging-cso"
    ids = {submit(client, partner(issuer, org=org))["id"] for _ in range(3)}
    seen: list[str] = []
    url = f"/v1/tenants/{TENANT}/referrals?limit=2"
    for _ in range(5):
        page = client.get(url, headers=partner(issuer, org=org)).json()
        seen += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        url = f"/v1/tenants/{TENANT}/referrals?limit=2&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen)) == 3 and set(seen) == ids


def test_other_tenant_is_not_found_and_no_token_is_unauthenticated(intake, issuer):
    client, _ = intake
    nairobi_partner = partner(issuer, tenant="ke-nairobi")
    response = client.get(f"/v1/tenants/{TENANT}/referrals", headers=nairobi_partner)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    response = client.get(f"/v1/tenants/{TENANT}/referrals")
    assert response.status_code == 401 and response.json()["type"].endswith("/unauthenticated")


def test_wrong_scope_is_forbidden(intake, issuer):
    client, _ = intake
    read_only = issuer.headers(tenants={TENANT: ["partner"]}, scope="referrals:read", org="x")
    response = client.post(f"/v1/tenants/{TENANT}/referrals", json=REFERRAL, headers=read_only)
    assert response.status_code == 403 and response.json()["type"].endswith("/insufficient-scope")


def test_malformed_referral_names_the_failing_fields(intake, issuer):
    client, _ = intake
    body = {**REFERRAL, "source_type": "rumour", "person": {"given_name": ""}}
    response = client.post(f"/v1/tenants/{TENANT}/referrals", json=body, headers=partner(issuer))
    assert response.status_code == 422
    problem = response.json()
    locations = {tuple(e["location"]) for e in problem["errors"]}
    assert ("body", "source_type") in locations
    assert ("body", "person", "family_name") in locations


def test_not_json_is_a_problem_not_a_crash(intake, issuer):
    client, _ = intake
    response = client.post(f"/v1/tenants/{TENANT}/referrals", content=b"{not json",
                           headers={**partner(issuer), "content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_route_is_a_problem(intake):
    client, _ = intake
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_service_role_sees_no_rows_without_or_with_another_tenant(intake, issuer):
    client, database = intake
    submit(client, partner(issuer))
    for table in ("referrals", "subjects"):
        assert rows(database.app, f"SELECT count(*) FROM {table}")[0][0] == 0
        assert rows(database.app, f"SELECT count(*) FROM {table}", tenant="ke-nairobi")[0][0] == 0
    assert rows(database.app, "SELECT count(*) FROM referrals", tenant=TENANT)[0][0] > 0


def test_service_role_cannot_read_the_outbox(intake):
    _, database = intake
    with pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied"):
        rows(database.app, "SELECT count(*) FROM outbox", tenant=TENANT)


def test_me_shows_the_callers_roles_in_the_tenant(intake, issuer):
    client, _ = intake
    response = client.get(f"/v1/tenants/{TENANT}/me", headers=partner(issuer))
    assert response.status_code == 200
    assert response.json()["roles"] == ["partner"]
    assert response.json()["organisation"] == "mombasa-youth-cso"
    assert client.get("/v1/tenants/ke-nairobi/me", headers=partner(issuer)).status_code == 404
