"""A token's scopes hold per tenant: a scope granted in one county is not held in another.

`scope` stays the union (RFC 9068); `tenant_scopes` says where each scope is held, and every
service's Authenticator checks the scopes of the tenant the request is in.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from harambee_common.auth import Authenticator, TenantPrincipal
from harambee_common.permissions import Scope
from harambee_common.problems import install_problem_handlers
from harambee_common.tenancy import tenant_router
from tests.gateway.browser import Browser, new_person, verifier_for
from tests.gateway.conftest import bearer

ReferralsRead = Annotated[TenantPrincipal, Depends(Authenticator(scopes={Scope.referrals_read}, roles=None))]


@pytest.fixture(scope="module")
def service(gateway_url: str) -> TestClient:
    """A service's referral list as every service guards one, trusting the module's gateway."""
    router = tenant_router()

    @router.get("/referrals")
    def referrals(principal: ReferralsRead) -> dict[str, str]:
        return {"tenant": principal.tenant}

    app = FastAPI()
    app.state.verifier = verifier_for(gateway_url)
    app.include_router(router)
    install_problem_handlers(app)
    return TestClient(app)


def test_a_client_reads_referrals_only_where_it_was_granted_referrals_read(
    admin_api: httpx.Client, gateway_url: str, service: TestClient
) -> None:
    created = admin_api.post("/admin/v1/clients", json={
        "name": f"split-{uuid.uuid4().hex[:6]}",
        "grants": [
            {"tenant": "ke-mombasa", "roles": ["partner"], "scopes": ["referrals:read", "cases:read"]},
            {"tenant": "ke-nairobi", "roles": ["partner"], "scopes": ["cases:read"]},
        ],
    })
    assert created.status_code == 201, created.text
    with httpx.Client(base_url=gateway_url) as http:
        headers = bearer(http, created.json())
    principal = verifier_for(gateway_url).verify(headers["Authorization"].removeprefix("Bearer "))
    assert principal.scopes == {"referrals:read", "cases:read"}  # `scope` is still the union
    assert principal.scopes_in("ke-mombasa") == {"referrals:read", "cases:read"}
    assert principal.scopes_in("ke-nairobi") == {"cases:read"}

    assert service.get("/v1/tenants/ke-mombasa/referrals", headers=headers).status_code == 200
    refused = service.get("/v1/tenants/ke-nairobi/referrals", headers=headers)
    assert refused.status_code == 403, refused.text
    assert "referrals:read" in refused.json()["detail"]


def test_a_persons_scopes_are_those_of_their_roles_in_each_tenant(
    admin_api: httpx.Client, browser: Browser, gateway_url: str, service: TestClient
) -> None:
    person_id, username, password = new_person(admin_api, "ke-mombasa", "case_worker")
    role = {"tenant": "ke-nairobi", "role": "panel_member"}
    granted = admin_api.post(f"/admin/v1/people/{person_id}/roles", json=role)
    assert granted.status_code == 201, granted.text
    token = browser.exchange(browser.sign_in(username, password).json()["code"]).json()["access_token"]
    principal = verifier_for(gateway_url).verify(token)
    assert principal.scopes_in("ke-mombasa") == {"referrals:read", "cases:read"}
    assert principal.scopes_in("ke-nairobi") == {"cases:read"}  # a panel member reads cases, not referrals
    headers = {"Authorization": f"Bearer {token}"}
    assert service.get("/v1/tenants/ke-mombasa/referrals", headers=headers).status_code == 200
    assert service.get("/v1/tenants/ke-nairobi/referrals", headers=headers).status_code == 403
