"""Data-sharing agreements in the registry: versioned lifecycle, bootstrap reads and events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from harambee_common.db import create_db_engine, session_factory
from harambee_gateway import agreements
from harambee_gateway.unit_of_work import registry_unit_of_work
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.conftest import bearer
from tests.support.services import rows

TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def intake(gateway: TestClient, demo: dict) -> dict[str, str]:
    """A service's token for the bootstrap endpoint."""
    assert demo["intake-service"]["scope"] == "registry:read"
    return bearer(gateway, demo["intake-service"])


def terms(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": f"dsa-{uuid.uuid4().hex[:8]}",
        "title": "Intervention sessions by a provider",
        "purpose": "The provider records the sessions it delivers under a plan.",
        "parties": [
            {"kind": "tenant", "id": "ke-mombasa", "role": "controller", "lawful_basis": "public_interest"},
            {"kind": "organisation", "id": "mombasa-youth-cso", "role": "processor", "lawful_basis": "contract"},
        ],
        "data_categories": [
            {"name": "session", "sensitive": True, "fields": ["plan_task_id", "held_on", "attended", "notes"]}
        ],
        "operations": ["record_intervention_sessions"],
        "consent_required": True,
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + timedelta(days=365)).isoformat(),
        "review_date": (TODAY + timedelta(days=180)).isoformat(),
        "retention": {"days": 730, "then": "delete"},
    }
    body.update(overrides)
    return body


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_seeding_records_one_agreement_of_each_kind(gateway: TestClient, intake: dict) -> None:
    cso = gateway.get("/registry/v1/agreements", params={"party": "mombasa-youth-cso"}, headers=intake).json()
    (partner,) = [a for a in cso["items"] if a["reference"] == "ke-mombasa-mombasa-youth-cso-referrals"]
    assert (partner["status"], partner["in_force"], partner["tenant"]) == ("active", True, "ke-mombasa")
    assert partner["operations"] == ["submit_referrals", "read_referral_status"]
    assert partner["onward_sharing"] == {"allowed": False, "to": [], "conditions": None}
    assert partner["reidentification_allowed"] is False
    national = gateway.get("/registry/v1/agreements", params={"party": "tenant:ke-national"}, headers=intake).json()
    (aggregates,) = [a for a in national["items"] if a["reference"] == "ke-mombasa-ke-national-aggregates"]
    assert aggregates["operations"] == ["read_aggregates"]
    assert aggregates["aggregate_suppression_threshold"] == 5
    assert {(p["id"], p["role"]) for p in aggregates["parties"]} == {
        ("ke-mombasa", "controller"),
        ("ke-national", "recipient"),
    }


def test_the_bootstrap_endpoint_needs_the_registry_scope(gateway: TestClient, demo: dict) -> None:
    problem(gateway.get("/registry/v1/agreements"), 401)
    partner = bearer(gateway, demo["mombasa-youth-cso-system"])
    assert problem(gateway.get("/registry/v1/agreements", headers=partner), 403)["type"].endswith("insufficient-scope")


def test_each_change_is_a_new_version_and_only_active_is_in_force(gateway: TestClient, admin: dict) -> None:
    created = gateway.post("/admin/v1/agreements", json=terms(), headers=admin)
    assert created.status_code == 201, created.text
    draft = created.json()
    assert (draft["version"], draft["status"], draft["in_force"]) == (1, "draft", False)
    path = f"/admin/v1/agreements/{draft['id']}"

    active = gateway.post(f"{path}/activate", headers=admin).json()
    assert (active["version"], active["status"], active["in_force"]) == (2, "active", True)
    suspended = gateway.post(f"{path}/suspend", json={"reason": "A breach is being investigated."}, headers=admin)
    assert (suspended.json()["status"], suspended.json()["in_force"]) == ("suspended", False)
    assert gateway.post(f"{path}/activate", headers=admin).json()["version"] == 4
    terminated = gateway.post(f"{path}/terminate", json={"reason": "The project ended."}, headers=admin).json()
    assert (terminated["version"], terminated["status"], terminated["in_force"]) == (5, "terminated", False)

    problem(gateway.post(f"{path}/activate", headers=admin), 409)
    problem(gateway.post(f"{path}/suspend", json={"reason": "x"}, headers=admin), 409)
    problem(gateway.post(f"{path}/suspend", json={}, headers=admin), 422)
    history = gateway.get(f"{path}/versions", headers=admin).json()
    assert [(v["version"], v["status"]) for v in history] == [
        (1, "draft"),
        (2, "active"),
        (3, "suspended"),
        (4, "active"),
        (5, "terminated"),
    ]
    assert history[2]["reason"] == "A breach is being investigated."
    assert all(v["operations"] == ["record_intervention_sessions"] for v in history)
    assert gateway.get(path, headers=admin).json()["version"] == 5


def test_every_change_publishes_the_full_terms(gateway: TestClient, admin: dict, database: ComponentDatabase) -> None:
    draft = gateway.post("/admin/v1/agreements", json=terms(), headers=admin).json()
    gateway.post(f"/admin/v1/agreements/{draft['id']}/activate", headers=admin)
    gateway.post(f"/admin/v1/agreements/{draft['id']}/suspend", json={"reason": "Review."}, headers=admin)
    events = rows(
        database.owner,
        "SELECT type, tenant_id, key, data FROM outbox WHERE subject = :s ORDER BY seq",
        s=draft["id"],
    )
    assert [e.type for e in events] == ["agreement.created", "agreement.activated", "agreement.suspended"]
    assert {e.tenant_id for e in events} == {"ke-mombasa"}
    assert {e.key for e in events} == {f"ke-mombasa:{draft['id']}"}  # one partition: in order
    last = events[-1].data
    assert (last["version"], last["status"], last["reason"]) == (3, "suspended", "Review.")
    assert last["data_categories"][0]["fields"] == ["plan_task_id", "held_on", "attended", "notes"]
    assert last["consent_required"] is True
    assert last["aggregate_suppression_threshold"] == 5
    assert {p["lawful_basis"] for p in last["parties"]} == {"public_interest", "contract"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"parties": [{"kind": "tenant", "id": "ke-mombasa", "role": "controller", "lawful_basis": "consent"}]},
        {
            "parties": [
                {"kind": "tenant", "id": "ke-mombasa", "role": "controller", "lawful_basis": "consent"},
                {"kind": "organisation", "id": "no-such-cso", "role": "recipient", "lawful_basis": "consent"},
            ]
        },
        {
            "parties": [
                {"kind": "tenant", "id": "ke-nairobi", "role": "controller", "lawful_basis": "public_interest"},
                {"kind": "organisation", "id": "mombasa-youth-cso", "role": "processor", "lawful_basis": "contract"},
            ]
        },
        {
            "parties": [
                {"kind": "tenant", "id": "ke-mombasa", "role": "recipient", "lawful_basis": "public_interest"},
                {"kind": "organisation", "id": "mombasa-youth-cso", "role": "controller", "lawful_basis": "contract"},
            ]
        },
        {"operations": ["sell_data"]},
        {"operations": []},
        {"data_categories": [{"name": "session", "sensitive": True, "fields": []}]},
        {"valid_until": (TODAY - timedelta(days=1)).isoformat()},
        {"review_date": (TODAY + timedelta(days=999)).isoformat()},
        {"onward_sharing": {"allowed": False, "to": ["ke-national"]}},
        {"aggregate_suppression_threshold": 0},
        {"reidentification_allowed": True},
    ],
    ids=[
        "one-party",
        "unknown-organisation",
        "organisation-not-in-tenant",
        "no-tenant-controller",
        "unknown-operation",
        "no-operation",
        "category-without-fields",
        "already-ended",
        "review-after-end",
        "recipients-without-permission",
        "threshold-zero",
        "reidentification",
    ],
)
def test_invalid_agreements_are_refused(gateway: TestClient, admin: dict, overrides: dict) -> None:
    problem(gateway.post("/admin/v1/agreements", json=terms(**overrides), headers=admin), 422)


def test_duplicates_and_unknowns_are_problems(gateway: TestClient, admin: dict) -> None:
    body = terms()
    assert gateway.post("/admin/v1/agreements", json=body, headers=admin).status_code == 201
    problem(gateway.post("/admin/v1/agreements", json=body, headers=admin), 409)
    problem(gateway.get(f"/admin/v1/agreements/{uuid.uuid4()}", headers=admin), 404)
    problem(gateway.post(f"/admin/v1/agreements/{uuid.uuid4()}/activate", headers=admin), 404)


def test_an_active_agreement_is_not_in_force_before_its_start(gateway: TestClient, admin: dict) -> None:
    later = terms(
        valid_from=(TODAY + timedelta(days=10)).isoformat(), review_date=(TODAY + timedelta(days=20)).isoformat()
    )
    draft = gateway.post("/admin/v1/agreements", json=later, headers=admin).json()
    active = gateway.post(f"/admin/v1/agreements/{draft['id']}/activate", headers=admin).json()
    assert (active["status"], active["in_force"]) == ("active", False)


def test_lapsed_agreements_expire_as_a_new_version(
    gateway: TestClient, admin: dict, database: ComponentDatabase
) -> None:
    short = terms(valid_until=(TODAY + timedelta(days=1)).isoformat(), review_date=TODAY.isoformat())
    draft = gateway.post("/admin/v1/agreements", json=short, headers=admin).json()
    gateway.post(f"/admin/v1/agreements/{draft['id']}/activate", headers=admin)
    engine = create_db_engine(database.app, pool_size=1)
    try:
        with registry_unit_of_work(session_factory(engine)) as uow:
            expired = agreements.expire_lapsed(uow=uow, on=TODAY + timedelta(days=2), actor="test")
    finally:
        engine.dispose()
    assert draft["id"] in {str(a.id) for a in expired}
    current = gateway.get(f"/admin/v1/agreements/{draft['id']}", headers=admin).json()
    assert (current["version"], current["status"], current["in_force"]) == (3, "expired", False)
    problem(gateway.post(f"/admin/v1/agreements/{draft['id']}/activate", headers=admin), 409)
    types = [r.type for r in rows(database.owner, "SELECT type FROM outbox WHERE subject = :s", s=draft["id"])]
    assert types[-1] == "agreement.expired"


def test_the_bootstrap_list_pages_and_filters(gateway: TestClient, admin: dict, intake: dict) -> None:
    for _ in range(3):
        gateway.post("/admin/v1/agreements", json=terms(), headers=admin)
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 2, "party": "ke-mombasa"}
        if cursor:
            params["cursor"] = cursor
        page = gateway.get("/registry/v1/agreements", params=params, headers=intake).json()
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 5
    drafts = gateway.get("/registry/v1/agreements", params={"status": "draft", "limit": 500}, headers=intake).json()
    assert drafts["items"] and all(a["status"] == "draft" for a in drafts["items"])
    problem(gateway.get("/registry/v1/agreements", params={"party": "planet:earth"}, headers=intake), 422)
