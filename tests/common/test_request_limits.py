"""Hostile bodies and tokens are client errors, answered before anything parses or trusts them."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from fastapi.testclient import TestClient

from harambee_common.request_limits import DEFAULT_MAX_BODY_BYTES
from harambee_stack.ports import free_port
from tests.support.services import patched_env

TENANT = "ke-mombasa"


@pytest.fixture(scope="module")
def client(issuer, broker):
    """Assessment's app on a database that does not answer: these requests must never need it."""
    nowhere = f"postgresql+psycopg://assessment_app@127.0.0.1:{free_port()}/none?connect_timeout=2"
    env = {"DATABASE_URL": nowhere, "RELAY_DATABASE_URL": nowhere,
           "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, **issuer.env()}
    with patched_env(env):
        from harambee_assessment.app import create_app

        app = create_app()
    return TestClient(app)


def transfers_path() -> str:
    return f"/v1/tenants/{TENANT}/cases/{uuid.uuid4()}/transfers"


@pytest.mark.parametrize("authenticated", [False, True])
def test_a_declared_oversized_body_is_refused_before_parsing_or_authentication(client, issuer, authenticated):
    headers = issuer.headers(tenants={TENANT: ["case_worker"]}, scope="cases:read") if authenticated else {}
    body = b"{" + b" " * DEFAULT_MAX_BODY_BYTES + b"}"
    response = client.post(transfers_path(), content=body, headers={**headers, "content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413


def test_a_streamed_oversized_body_is_refused_as_it_arrives(client):
    def chunks():
        for _ in range(5):
            yield b" " * (DEFAULT_MAX_BODY_BYTES // 4)

    response = client.post(transfers_path(), content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_a_body_within_the_limit_reaches_the_route(client):
    response = client.post(transfers_path(), content=b"{}", headers={"content-type": "application/json"})
    assert response.status_code == 401  # authentication, not the limit, answers


def test_a_token_header_whose_typ_is_not_text_is_unauthenticated_not_a_crash(client, issuer):
    good = issuer.mint(tenants={TENANT: ["case_worker"]}, scope="cases:read")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "ES256", "typ": 7}).encode()).rstrip(b"=").decode()
    token = ".".join([header, *good.split(".")[1:]])  # the header is read before any signature check
    response = client.get(f"/v1/tenants/{TENANT}/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
