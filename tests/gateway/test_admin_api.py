"""The admin API against the real PostgreSQL: platform administrators manage the registry."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient

from harambee_common.pagination import encode_cursor
from harambee_gateway.client_secrets import hash_client_secret
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.conftest import gateway_token, token_for
from tests.support.services import rows


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == f"https://harambee.example/problems/{slug}"
    return problem


# --- who may call --------------------------------------------------------------------------------


def test_the_admin_api_needs_a_token(gateway: TestClient) -> None:
    assert_problem(gateway.get("/admin/v1/tenants"), 401, "unauthenticated")
    assert_problem(
        gateway.get("/admin/v1/tenants", headers={"Authorization": "Bearer x.y.z"}), 401, "unauthenticated"
    )


def test_a_partner_may_not_administer(gateway: TestClient, demo: dict) -> None:
    partner = demo["mombasa-youth-cso-system"]
    token = token_for(gateway, partner["client_id"], partner["client_secret"]).json()["access_token"]
    response = gateway.get("/admin/v1/tenants", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 403, "insufficient-scope")


def test_the_admin_scope_without_the_platform_role_is_refused(
    gateway: TestClient, signing_key_pem: bytes
) -> None:
    # Signed by the gateway's own key, so only the role check can refuse it.
    token = gateway_token(
        signing_key_pem, client_id="hc_x", scope="registry:admin", tenants={"ke-mombasa": ["platform_admin"]}
    )
    response = gateway.get("/admin/v1/tenants", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 403, "forbidden")


# --- tenants -------------------------------------------------------------------------------------


def test_a_national_tenant_lists_the_counties_it_oversees(gateway: TestClient, admin: dict) -> None:
    county = unique("ke-county")
    created = gateway.post(
        "/admin/v1/tenants", json={"slug": county, "name": "A county", "kind": "county"}, headers=admin
    )
    assert created.status_code == 201, created.text
    national = unique("ke-nation")
    response = gateway.post(
        "/admin/v1/tenants",
        json={"slug": national, "name": "A national programme", "kind": "national", "oversees": [county]},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert gateway.get(f"/admin/v1/tenants/{national}", headers=admin).json()["oversees"] == [county]


def test_tenant_errors_are_problems(gateway: TestClient, admin: dict) -> None:
    county = unique("ke-county")
    body = {"slug": county, "name": "A county", "kind": "county"}
    assert gateway.post("/admin/v1/tenants", json=body, headers=admin).status_code == 201
    assert_problem(gateway.post("/admin/v1/tenants", json=body, headers=admin), 409, "conflict")
    invalid = [
        {**body, "slug": unique("x"), "kind": "planet"},
        {**body, "slug": "Not A Slug"},
        {**body, "slug": unique("x"), "oversees": ["ke-mombasa"]},  # a county oversees nothing
        {"slug": unique("x"), "name": "N", "kind": "national", "oversees": ["ke-nowhere"]},
        {"slug": unique("x"), "name": "N", "kind": "national", "oversees": ["ke-national"]},
    ]
    for payload in invalid:
        assert_problem(
            gateway.post("/admin/v1/tenants", json=payload, headers=admin), 422, "validation-failed"
        )
    assert_problem(gateway.get("/admin/v1/tenants/ke-nowhere", headers=admin), 404, "not-found")


def test_a_tenant_can_require_a_second_factor(gateway: TestClient, admin: dict) -> None:
    county = unique("ke-county")
    gateway.post("/admin/v1/tenants", json={"slug": county, "name": "C", "kind": "county"}, headers=admin)
    response = gateway.patch(f"/admin/v1/tenants/{county}", json={"require_totp": True}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["require_totp"] is True


def test_lists_page_by_cursor_without_gaps_or_repeats(gateway: TestClient, admin: dict) -> None:
    for _ in range(5):
        slug = unique("ke-paged")
        gateway.post("/admin/v1/tenants", json={"slug": slug, "name": "P", "kind": "county"}, headers=admin)
    seen: list[str] = []
    cursor = None
    for _ in range(100):  # bounded: far more pages than there are tenants
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = gateway.get("/admin/v1/tenants", params=params, headers=admin).json()
        assert len(page["items"]) <= 2
        seen += [t["slug"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = [r.slug for r in rows_of_tenants(gateway)]
    assert sorted(seen) == sorted(everything)
    assert len(seen) == len(set(seen))
    assert_problem(
        gateway.get("/admin/v1/tenants", params={"cursor": "garbage"}, headers=admin),
        422,
        "validation-failed",
    )


def rows_of_tenants(gateway: TestClient) -> list:
    url = gateway.app.state.settings.common.database_url  # type: ignore[attr-defined]
    return rows(url, "SELECT slug FROM tenants")


# --- organisations -------------------------------------------------------------------------------


def test_an_organisation_works_in_several_tenants(gateway: TestClient, admin: dict) -> None:
    slug = unique("cso")
    body = {"slug": slug, "name": "A CSO", "kind": "cso", "tenants": ["ke-mombasa", "ke-nairobi"]}
    response = gateway.post("/admin/v1/organisations", json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["tenants"] == ["ke-mombasa", "ke-nairobi"]
    assert_problem(gateway.post("/admin/v1/organisations", json=body, headers=admin), 409, "conflict")
    bad = {**body, "slug": unique("cso"), "tenants": ["ke-nowhere"]}
    assert_problem(gateway.post("/admin/v1/organisations", json=bad, headers=admin), 422, "validation-failed")
    listed = gateway.get("/admin/v1/organisations", params={"limit": 500}, headers=admin).json()["items"]
    assert slug in {o["slug"] for o in listed}


# --- machine clients -----------------------------------------------------------------------------


def new_client(gateway: TestClient, admin: dict, **overrides: Any) -> dict:
    body = {
        "name": unique("partner-system"),
        "organisation": "mombasa-youth-cso",
        "grants": [{"tenant": "ke-mombasa", "roles": ["partner"], "scopes": ["referrals:write"]}],
        **overrides,
    }
    response = gateway.post("/admin/v1/clients", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_new_client_gets_its_secret_once(
    gateway: TestClient, admin: dict, database: ComponentDatabase
) -> None:
    created = new_client(gateway, admin)
    assert created["client_secret"]
    assert created["grants"] == [
        {"tenant": "ke-mombasa", "roles": ["partner"], "scopes": ["referrals:write"]}
    ]
    shown = gateway.get(f"/admin/v1/clients/{created['client_id']}", headers=admin)
    assert "client_secret" not in shown.json() and "secret_hash" not in shown.text
    token = token_for(gateway, created["client_id"], created["client_secret"])
    assert token.status_code == 200
    stored = rows(
        database.owner, "SELECT secret_hash FROM clients WHERE client_id = :c", c=created["client_id"]
    )
    assert stored[0].secret_hash == hash_client_secret(secret=created["client_secret"])


def test_client_grants_are_checked(gateway: TestClient, admin: dict) -> None:
    invalid = [
        # The CSO does not work in Nairobi.
        {"grants": [{"tenant": "ke-nairobi", "roles": ["partner"], "scopes": ["referrals:write"]}]},
        # Administration lives in the platform tenant only.
        {"grants": [{"tenant": "ke-mombasa", "roles": ["platform_admin"], "scopes": ["registry:admin"]}]},
        {"grants": [{"tenant": "platform", "roles": ["partner"], "scopes": ["referrals:write"]}]},
        {"grants": [{"tenant": "ke-mombasa", "roles": ["partner"], "scopes": ["payroll:write"]}]},
        {"organisation": "no-such-org"},
    ]
    for overrides in invalid:
        body = {"name": unique("c"), "organisation": "mombasa-youth-cso", "grants": [], **overrides}
        assert_problem(gateway.post("/admin/v1/clients", json=body, headers=admin), 422, "validation-failed")
    taken = new_client(gateway, admin)["name"]
    duplicate = {"name": taken, "grants": []}
    assert_problem(gateway.post("/admin/v1/clients", json=duplicate, headers=admin), 409, "conflict")
    assert_problem(gateway.get("/admin/v1/clients/hc_nobody", headers=admin), 404, "not-found")


def test_during_rotation_both_secrets_work_until_finish(gateway: TestClient, admin: dict) -> None:
    client = new_client(gateway, admin)
    old = client["client_secret"]
    rotated = gateway.post(f"/admin/v1/clients/{client['client_id']}/secret/rotate", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["client_secret"]
    assert new != old and rotated.json()["previous_secret_valid_until"]
    assert token_for(gateway, client["client_id"], old).status_code == 200
    assert token_for(gateway, client["client_id"], new).status_code == 200
    finished = gateway.post(f"/admin/v1/clients/{client['client_id']}/secret/finish", headers=admin)
    assert finished.status_code == 200 and finished.json()["previous_secret_valid_until"] is None
    assert token_for(gateway, client["client_id"], old).status_code == 401
    assert token_for(gateway, client["client_id"], new).status_code == 200
    again = gateway.post(f"/admin/v1/clients/{client['client_id']}/secret/finish", headers=admin)
    assert_problem(again, 409, "conflict")


def test_the_previous_secret_expires_on_its_own(gateway: TestClient, admin: dict) -> None:
    client = new_client(gateway, admin)
    old = client["client_secret"]
    gateway.post(
        f"/admin/v1/clients/{client['client_id']}/secret/rotate",
        json={"previous_valid_for_seconds": 1},
        headers=admin,
    )
    assert token_for(gateway, client["client_id"], old).status_code == 200
    time.sleep(1.2)
    assert token_for(gateway, client["client_id"], old).status_code == 401


def test_a_revoked_client_gets_no_token_at_once(gateway: TestClient, admin: dict) -> None:
    client = new_client(gateway, admin)
    assert token_for(gateway, client["client_id"], client["client_secret"]).status_code == 200
    revoked = gateway.post(f"/admin/v1/clients/{client['client_id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert token_for(gateway, client["client_id"], client["client_secret"]).status_code == 401


def test_a_grant_can_be_changed(gateway: TestClient, admin: dict) -> None:
    client = new_client(gateway, admin)
    grant = {"tenant": "ke-mombasa", "roles": ["partner"], "scopes": ["referrals:read", "referrals:write"]}
    response = gateway.put(
        f"/admin/v1/clients/{client['client_id']}/grants/ke-mombasa", json=grant, headers=admin
    )
    assert response.status_code == 200, response.text
    token = token_for(gateway, client["client_id"], client["client_secret"]).json()
    assert set(token["scope"].split()) == {"referrals:read", "referrals:write"}


# --- people --------------------------------------------------------------------------------------


def test_people_get_roles_per_tenant(gateway: TestClient, admin: dict) -> None:
    response = gateway.post(
        "/admin/v1/people", json={"username": unique("amina"), "display_name": "Amina"}, headers=admin
    )
    assert response.status_code == 201, response.text
    person = response.json()
    assert len(person["initial_password"]) >= 16
    people = f"/admin/v1/people/{person['id']}"
    granted = gateway.post(
        f"{people}/roles", json={"tenant": "ke-mombasa", "role": "case_worker"}, headers=admin
    )
    assert granted.status_code == 201, granted.text
    gateway.post(f"{people}/roles", json={"tenant": "ke-nairobi", "role": "panel_member"}, headers=admin)
    roles = {(r["tenant"], r["role"]) for r in gateway.get(people, headers=admin).json()["roles"]}
    assert roles == {("ke-mombasa", "case_worker"), ("ke-nairobi", "panel_member")}
    again = gateway.post(
        f"{people}/roles", json={"tenant": "ke-mombasa", "role": "case_worker"}, headers=admin
    )
    assert_problem(again, 409, "conflict")
    for wrong in (
        {"tenant": "ke-mombasa", "role": "platform_admin"},
        {"tenant": "ke-mombasa", "role": "national_coordinator"},
        {"tenant": "ke-mombasa", "role": "emperor"},
        {"tenant": "ke-nowhere", "role": "case_worker"},
    ):
        assert_problem(gateway.post(f"{people}/roles", json=wrong, headers=admin), 422, "validation-failed")
    revoked = gateway.delete(f"{people}/roles/ke-mombasa/case_worker", headers=admin)
    assert revoked.status_code == 200
    assert [(r["tenant"], r["role"]) for r in revoked.json()["roles"]] == [("ke-nairobi", "panel_member")]
    regranted = gateway.post(
        f"{people}/roles", json={"tenant": "ke-mombasa", "role": "case_worker"}, headers=admin
    )
    assert regranted.status_code == 201
    assert_problem(gateway.get(f"/admin/v1/people/{uuid.uuid4()}", headers=admin), 404, "not-found")


def test_usernames_are_unique_and_passwords_long(gateway: TestClient, admin: dict) -> None:
    username = unique("baraka")
    assert gateway.post("/admin/v1/people", json={"username": username}, headers=admin).status_code == 201
    assert_problem(
        gateway.post("/admin/v1/people", json={"username": username}, headers=admin), 409, "conflict"
    )
    short = {"username": unique("c"), "password": "short"}
    assert_problem(gateway.post("/admin/v1/people", json=short, headers=admin), 422, "validation-failed")
    chosen = gateway.post(
        "/admin/v1/people", json={"username": unique("d"), "password": "a long passphrase"}, headers=admin
    )
    assert chosen.json()["initial_password"] is None


def test_people_list_pages(gateway: TestClient, admin: dict) -> None:
    for _ in range(3):
        gateway.post("/admin/v1/people", json={"username": unique("p")}, headers=admin)
    ids: list[str] = []
    cursor = None
    for _ in range(100):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = gateway.get("/admin/v1/people", params=params, headers=admin).json()
        ids += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(ids) == len(set(ids)) >= 3


def test_a_cursor_the_api_did_not_issue_is_a_problem_not_an_error(gateway: TestClient, admin: dict) -> None:
    issued = gateway.get("/admin/v1/people", params={"limit": 1}, headers=admin).json()["next_cursor"]
    assert issued is not None
    at = datetime.now(UTC)
    forged = {
        # The people's key is a UUID; tenants' is a slug, but their position starts with a time.
        "/admin/v1/people": encode_cursor(at, "not-a-uuid"),
        "/admin/v1/tenants": encode_cursor(12, "ke-mombasa"),
        "/admin/v1/clients": encode_cursor(at),
        "/admin/v1/agreements": encode_cursor(at, 2**70),
        "/registry/v1/agreements": "%%%",
        "/admin/v1/organisations": "x" * 1001,
    }
    for path, cursor in forged.items():
        assert_problem(gateway.get(path, params={"cursor": cursor}, headers=admin), 422, "validation-failed")


# --- events --------------------------------------------------------------------------------------


def test_every_change_is_an_event_without_secrets_or_names(
    gateway: TestClient, admin: dict, database: ComponentDatabase, demo: dict
) -> None:
    username, name, password = unique("wanjiru"), "Wanjiru Kamau", "correct horse battery"
    person = gateway.post(
        "/admin/v1/people",
        json={"username": username, "display_name": name, "password": password},
        headers=admin,
    ).json()
    gateway.post(
        f"/admin/v1/people/{person['id']}/roles",
        json={"tenant": "ke-mombasa", "role": "intake_officer"},
        headers=admin,
    )
    client = new_client(gateway, admin)
    rotated = gateway.post(f"/admin/v1/clients/{client['client_id']}/secret/rotate", headers=admin).json()
    gateway.post(f"/admin/v1/clients/{client['client_id']}/revoke", headers=admin)

    events = rows(
        database.owner, "SELECT type, tenant_id, subject, data::text AS data FROM outbox ORDER BY seq"
    )
    about_person = [(e.type, e.tenant_id) for e in events if e.subject == person["id"]]
    assert about_person == [("person.created", "platform"), ("role.granted", "ke-mombasa")]
    about_client = [e.type for e in events if e.subject == client["client_id"]]
    assert about_client == ["client.created", "client.granted", "client.secret_rotated", "client.revoked"]
    actor = json.loads(events[-1].data)["actor"]
    assert actor == demo["platform-admin"]["client_id"]
    everything = " ".join(e.data for e in events)
    for secret in (username, name, password, client["client_secret"], rotated["client_secret"], "$argon2",
                   "$sha256$"):
        assert secret not in everything
