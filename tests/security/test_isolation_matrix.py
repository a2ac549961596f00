"""Every tenant-scoped endpoint of every service, read from its own OpenAPI document, refuses every
principal that should not reach it — with 401, 403 or 404 and no data. New endpoints join the matrix
by themselves."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.support.services import running_service

TENANT = "ke-mombasa"
SERVICES = ("intake", "assessment", "interventions", "audit")
ALL_SCOPES = "referrals:write referrals:read cases:read audit:read aggregates:read"
# The endpoints open to any member of the tenant, whatever their role, by design: they hold no
# personal data (who am I here; the tenant's referral vocabularies).
OPEN_TO_MEMBERS = {("GET", "/v1/tenants/{tenant}/me"), ("GET", "/v1/tenants/{tenant}/vocabularies")}

STRANGERS = {
    "no token": None,
    "another tenant's staff": {"tenants": {"ke-nairobi": ["case_worker", "intake_officer", "compliance_officer"]},
                               "scope": ALL_SCOPES},
    "a member without scopes": {"tenants": {TENANT: ["case_worker", "intake_officer", "compliance_officer"]},
                                "scope": ""},
    "a member whose role has no business here": {"tenants": {TENANT: ["panel_member"]}, "scope": ALL_SCOPES},
    "a national coordinator without an agreement": {"tenants": {"ke-national": ["national_coordinator"]},
                                                    "scope": ALL_SCOPES},
    "a partner without an agreement": {"tenants": {TENANT: ["partner"]}, "scope": ALL_SCOPES, "org": "some-cso"},
}


@pytest.fixture(scope="module", params=SERVICES)
def service(request, postgres, broker, issuer):
    with running_service(request.param, postgres=postgres, broker=broker, issuer=issuer) as (client, _):
        yield request.param, client


def tenant_operations(client) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [(method.upper(), path) for path, item in spec["paths"].items()
            for method in item if "{tenant}" in path and method in ("get", "post", "put", "patch", "delete")]


def concrete(path: str) -> str:
    path = path.replace("{tenant}", TENANT)
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


def test_the_matrix_is_not_empty(service):
    name, client = service
    assert len(tenant_operations(client)) >= 2, name


@pytest.mark.parametrize("stranger", sorted(STRANGERS))
def test_no_stranger_reaches_any_tenant_endpoint(service, issuer, stranger):
    name, client = service
    claims = STRANGERS[stranger]
    headers = issuer.headers(**claims) if claims else {}
    for method, path in tenant_operations(client):
        if claims and claims["tenants"].get(TENANT) and (method, path) in OPEN_TO_MEMBERS:
            continue
        response = client.request(method, concrete(path), headers=headers, json={})
        assert response.status_code in (401, 403, 404), f"{name} {method} {path}: {response.status_code}"
        assert response.headers["content-type"] == "application/problem+json", f"{name} {method} {path}"
        body = response.json()
        assert "items" not in body and "data" not in body, f"{name} {method} {path} leaked a body"
