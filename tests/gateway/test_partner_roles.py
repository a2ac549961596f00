"""A partner organisation's clients and people act under agreements: no staff role without an override.

A CSO's system given case_worker would read Mombasa's cases with no agreement in the way; the
admin API refuses it unless an administrator gives a reason, and each such override is an event.
"""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from harambee_stack.postgres import ComponentDatabase
from tests.gateway.test_admin_api import assert_problem, unique
from tests.gateway.test_token_endpoint import verify
from tests.support.services import rows

PARTNER = "mombasa-youth-cso"
PROGRAMME = "mombasa-county-programme"
OVERRIDE = {"reason": "Seconded to the county's intake desk under the 2026 memorandum"}


def allowed_overrides(database: ComponentDatabase, subject: str) -> list:
    return rows(database.owner, "SELECT tenant_id, data FROM outbox WHERE type = 'partner.staff_role_allowed' "
                "AND subject = :s", s=subject)


def client_body(organisation: str, roles: list[str], **grant: object) -> dict:
    return {
        "name": unique("system"),
        "organisation": organisation,
        "grants": [{"tenant": "ke-mombasa", "roles": roles, "scopes": ["cases:read"], **grant}],
    }


def test_a_partners_client_cannot_be_given_a_staff_role(gateway: TestClient, admin: dict) -> None:
    for roles in (["case_worker"], ["partner", "intake_officer"], ["programme_manager"]):
        refused = gateway.post("/admin/v1/clients", json=client_body(PARTNER, roles), headers=admin)
        assert "partner organisation" in assert_problem(refused, 422, "validation-failed")["detail"]
    partner = gateway.post("/admin/v1/clients", json=client_body(PARTNER, ["partner"]), headers=admin)
    assert partner.status_code == 201, partner.text
    staff = {"tenant": "ke-mombasa", "roles": ["case_worker"], "scopes": ["cases:read"]}
    regranted = gateway.put(f"/admin/v1/clients/{partner.json()['client_id']}/grants/ke-mombasa", json=staff,
                            headers=admin)
    assert_problem(regranted, 422, "validation-failed")
    own = gateway.post("/admin/v1/clients", json=client_body(PROGRAMME, ["case_worker"]), headers=admin)
    assert own.status_code == 201, own.text  # the county's own programme holds staff roles


def test_an_override_with_a_reason_lets_a_staff_role_through_and_is_recorded(
    gateway: TestClient, admin: dict, database: ComponentDatabase
) -> None:
    body = client_body(PARTNER, ["case_worker"], staff_role_override=OVERRIDE)
    created = gateway.post("/admin/v1/clients", json=body, headers=admin)
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]
    [recorded] = allowed_overrides(database, client_id)
    assert recorded.tenant_id == "ke-mombasa"
    assert recorded.data["roles"] == ["case_worker"] and recorded.data["organisation"] == PARTNER
    assert recorded.data["reason"] == OVERRIDE["reason"] and recorded.data["client_id"] == client_id
    empty = client_body(PARTNER, ["case_worker"], staff_role_override={"reason": " "})
    assert_problem(gateway.post("/admin/v1/clients", json=empty, headers=admin), 422, "validation-failed")


def test_a_partners_person_holds_intervention_provider_only_unless_overridden(
    gateway: TestClient, admin: dict, database: ComponentDatabase
) -> None:
    person = gateway.post("/admin/v1/people", json={"username": f"p{uuid.uuid4().hex[:10]}", "organisation": PARTNER},
                          headers=admin).json()
    roles = f"/admin/v1/people/{person['id']}/roles"
    refused = gateway.post(roles, json={"tenant": "ke-mombasa", "role": "case_worker"}, headers=admin)
    assert_problem(refused, 422, "validation-failed")
    provider = gateway.post(roles, json={"tenant": "ke-mombasa", "role": "intervention_provider"}, headers=admin)
    assert provider.status_code == 201, provider.text
    assert allowed_overrides(database, person["id"]) == []
    overridden = gateway.post(roles, json={"tenant": "ke-mombasa", "role": "case_worker",
                                           "staff_role_override": OVERRIDE}, headers=admin)
    assert overridden.status_code == 201, overridden.text
    [recorded] = allowed_overrides(database, person["id"])
    assert recorded.data["person_id"] == person["id"] and recorded.data["roles"] == ["case_worker"]


def test_an_overridden_partner_client_is_still_an_outside_party_in_its_token(
    gateway: TestClient, admin: dict
) -> None:
    kinds = {}
    for organisation, grant in ((PARTNER, {"staff_role_override": OVERRIDE}), (PROGRAMME, {})):
        created = gateway.post("/admin/v1/clients", json=client_body(organisation, ["case_worker"], **grant),
                               headers=admin).json()
        token = gateway.post("/oauth/token", data={"grant_type": "client_credentials"},
                             auth=(created["client_id"], created["client_secret"]))
        assert token.status_code == 200, token.text
        kinds[organisation] = verify(gateway, token.json()["access_token"]).claims["org_kind"]
    # The services bind a `cso` to its agreements whatever its roles (harambee_common.agreements.party_of).
    assert kinds == {PARTNER: "cso", PROGRAMME: "programme"}
