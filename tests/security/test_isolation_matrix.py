"""Every tenant-scoped endpoint of every service, read from its own OpenAPI document, refuses every
principal that should not reach it — with exactly the status its guard is declared to give, and no data.
New endpoints join the matrix by themselves."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import routing
from fastapi.routing import APIRoute

from harambee_common.auth import Authenticator
from harambee_common.components import SERVICES as COMPONENT_SERVICES
from tests.interventions.support import allow_provider
from tests.support.services import running_service

TENANT = "ke-mombasa"
SERVICES = tuple(service.name for service in COMPONENT_SERVICES)
ALL_SCOPES = ("referrals:write referrals:read cases:read audit:read aggregates:read plans:write tasks:read "
              "tasks:write")
# The endpoints open to any member of the tenant, whatever their role or scopes, by design: they hold
# no personal data (who am I here; the tenant's referral vocabularies, listed or one by name).
OPEN_TO_MEMBERS = {("GET", "/v1/tenants/{tenant}/me"), ("GET", "/v1/tenants/{tenant}/vocabularies"),
                   ("GET", "/v1/tenants/{tenant}/vocabularies/{name}")}

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
    """The (method, path) of every tenant-scoped operation in the service's OpenAPI document."""
    spec = client.get("/openapi.json").json()
    return [(method.upper(), path) for path, item in spec["paths"].items()
            for method in item if "{tenant}" in path and method in ("get", "post", "put", "patch", "delete")]


def concrete(path: str, tenant: str = TENANT) -> str:
    """The path with the tenant filled in and a random id for every other parameter (integers as 1)."""
    path = path.replace("{tenant}", tenant)
    return re.sub(r"\{([^}]+)\}", lambda m: "1" if m.group(1) in ("seq", "tree_size") else str(uuid.uuid4()),
                  path)


def api_routes(app) -> list[Any]:
    """The app's operations as it serves them: path, methods and dependencies, included routers flattened."""
    # FastAPI >= 0.16x keeps included routers whole in app.routes; iter_route_contexts flattens them.
    flattened = getattr(routing, "iter_route_contexts", None)
    routes = flattened(app.routes) if flattened else app.routes
    return [r for r in routes if isinstance(getattr(r, "original_route", r), APIRoute)]


def route_of(client, method: str, path: str) -> Any:
    """The app's route that serves this operation."""
    return next(r for r in api_routes(client.app) if r.path == path and method in r.methods)


def guards(route: Any) -> list[Authenticator]:
    """Every Authenticator among the route's dependencies, however deeply nested."""
    found, stack = [], list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        if isinstance(dependency.call, Authenticator):
            found.append(dependency.call)
        # A guard admitting whom any one of several authenticators admits (intake's EitherOf).
        options = getattr(dependency.call, "options", ())
        found += [option for option in options if isinstance(option, Authenticator)]
        stack.extend(dependency.dependencies)
    return found


def hidden_from(route: Any) -> frozenset[str]:
    """The roles the route's guards answer 404 rather than 403 (assessment's staff routes: outside parties)."""
    found, stack = frozenset(), list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        found |= getattr(dependency.call, "hidden_from", frozenset())
        stack.extend(dependency.dependencies)
    return found


def expected_status(claims: dict[str, Any] | None, route: Any) -> int:
    """The one status the route's declared guards give this stranger.

    No token: 401. No role in the tenant: 404, as if the tenant did not exist, unless the guard lets
    one of the stranger's roles act from another tenant under an agreement — there is none, so 403.
    A member of the tenant lacking the scope, the role or the agreement: 403 — or 404 where the guard hides
    the route from every role the member holds (an outside party on assessment's staff routes).
    """
    if claims is None:
        return 401
    if roles := claims["tenants"].get(TENANT):
        return 404 if set(roles) <= hidden_from(route) else 403
    across = frozenset().union(*(guard.across_tenants for guard in guards(route)))
    elsewhere = any(set(roles) & across for roles in claims["tenants"].values())
    return 403 if elsewhere else 404


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
        expected = expected_status(claims, route_of(client, method, path))
        assert response.status_code == expected, f"{name} {method} {path}: {response.status_code}, not {expected}"
        assert response.headers["content-type"] == "application/problem+json", f"{name} {method} {path}"
        body = response.json()
        assert "items" not in body and "data" not in body, f"{name} {method} {path} leaked a body"


@contextmanager
def statements(client, tenant: str) -> Iterator[list[str]]:
    """Collects the SQL sent in transactions scoped to the tenant while the block runs.

    The service's background workers share its engine, so statements are attributed by connection:
    those sent after a connection's transaction was scoped to this tenant, until it returns to the pool.
    """
    engine = client.app.state.sessions.kw["bind"]
    seen: list[str] = []
    scoped: set[int] = set()

    def record(conn, _cursor, statement, parameters, *_args) -> None:
        key = id(conn.connection.dbapi_connection)
        if "set_config" in statement:
            (scoped.add if tenant in str(parameters) else scoped.discard)(key)
        elif key in scoped:
            seen.append(statement)

    def checkin(dbapi_connection, _record) -> None:
        scoped.discard(id(dbapi_connection))

    sa.event.listen(engine, "before_cursor_execute", record)
    sa.event.listen(engine.pool, "checkin", checkin)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
        sa.event.remove(engine.pool, "checkin", checkin)


def tenant_routes(client) -> list[tuple[str, Any]]:
    """Every (method, route) under /v1/tenants/{tenant} in the app itself, in or out of the OpenAPI document."""
    return [(method, route) for route in api_routes(client.app)
            if route.path.startswith("/v1/tenants/{tenant}")
            for method in sorted(route.methods - {"HEAD", "OPTIONS"})]


# A provider's own work: its tasks, and the sessions and progress it records on them (interventions).
PROVIDERS_OWN = {("GET", "/v1/tenants/{tenant}/tasks"), ("GET", "/v1/tenants/{tenant}/tasks/{task_id}"),
                 ("GET", "/v1/tenants/{tenant}/tasks/{task_id}/sessions"),
                 ("POST", "/v1/tenants/{tenant}/tasks/{task_id}/sessions"),
                 ("POST", "/v1/tenants/{tenant}/tasks/{task_id}/progress")}


@pytest.mark.parametrize("provider", ["system", "practitioner"])
def test_a_provider_reaches_nothing_but_its_own_tasks(service, issuer, provider):
    """A vetted provider's system or practitioner, with every scope and an agreement for its tasks, gets no
    assessment, referral, case, plan, flag or other provider's task from any service: a refusal and no data.
    Where a guard hides its route from outside parties (assessment's cases and assessments), exactly 404."""
    name, client = service
    organisation = f"matrix-provider-{provider}"
    if name == "interventions":
        allow_provider(client, tenant=TENANT, organisation=organisation)
    role = "partner" if provider == "system" else "intervention_provider"
    headers = issuer.headers(tenants={TENANT: [role]}, scope=ALL_SCOPES, org=organisation, sub=str(uuid.uuid4()))
    for method, path in tenant_operations(client):
        if (method, path) in OPEN_TO_MEMBERS:
            continue
        response = client.request(method, concrete(path), headers=headers, json={})
        if (method, path) in PROVIDERS_OWN:
            # Its own work, but no task of that id is its own: as if it did not exist.
            assert response.status_code in (404, 422), f"{name} {method} {path}: {response.status_code}"
        elif role in hidden_from(route_of(client, method, path)):
            assert response.status_code == 404, f"{name} {method} {path}: {response.status_code}"
        else:
            assert response.status_code in (403, 404), f"{name} {method} {path}: {response.status_code}"
        assert response.headers["content-type"] == "application/problem+json", f"{name} {method} {path}"
        body = response.json()
        assert "items" not in body and "data" not in body, f"{name} {method} {path} leaked a body"


def test_no_tenant_route_is_reachable_without_a_verified_principal(service, issuer):
    name, client = service
    routes = tenant_routes(client)
    assert len(routes) >= len(tenant_operations(client)), name
    probe = f"ke-probe-{uuid.uuid4().hex[:8]}"  # a tenant only these requests name
    forged = {"Authorization": "Bearer " + issuer.mint(tenants={TENANT: ["compliance_officer"]})[:-8] + "A" * 8}
    for method, route in routes:
        # Declared: a guard that verifies the token and the caller's place in the tenant.
        assert guards(route), f"{name} {method} {route.path} has no Authenticator"
        for headers in ({}, forged):
            with statements(client, probe) as sent:
                response = client.request(method, concrete(route.path, probe), headers=headers, json={})
            assert response.status_code == 401, f"{name} {method} {route.path}: {response.status_code}"
            # Refused before any data is read or written (scoping the transaction is not reading).
            assert not sent, f"{name} {method} {route.path} ran {sent} for an unverified caller"
