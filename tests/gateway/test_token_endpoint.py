"""The token endpoint, discovery documents and registry, against the real PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet

from harambee_gateway.app import create_app
from harambee_gateway.seed import ORGANISATIONS, PROVIDER_ORGANISATIONS, TENANTS
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.conftest import AUDIENCE, ISSUER, NO_DATABASE, gateway_settings, migrated_database, seed_demo
from tests.support.services import rows


@pytest.fixture
def partner(demo: dict) -> dict[str, str]:
    return demo["mombasa-youth-cso-system"]


def verify(gateway: TestClient, token: str) -> jwt.Token:
    """Verifies a token the way a service does: against the published JWKS."""
    jwks = KeySet.import_key_set(gateway.get("/.well-known/jwks.json").json())
    decoded = jwt.decode(token, jwks, algorithms=["ES256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True},
    ).validate(decoded.claims)
    return decoded


def test_client_secret_basic_gets_a_token_that_verifies_against_the_jwks(
    gateway: TestClient, partner: dict[str, str]
) -> None:
    response = gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(partner["client_id"], partner["client_secret"]),
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
    token = verify(gateway, body["access_token"])
    assert token.header["typ"] == "at+jwt"
    assert token.claims["client_id"] == token.claims["sub"] == partner["client_id"]
    assert token.claims["tenants"] == {"ke-mombasa": ["partner"]}
    assert token.claims["org"] == "mombasa-youth-cso"
    # No scope asked for: every granted scope.
    assert set(token.claims["scope"].split()) == {"referrals:write", "referrals:read"}


def test_client_secret_post_gets_a_token_with_the_requested_scope(gateway: TestClient, demo: dict) -> None:
    case_worker = demo["mombasa-case-worker"]
    response = gateway.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": case_worker["client_id"],
            "client_secret": case_worker["client_secret"],
            "scope": "cases:read",
        },
    )
    assert response.status_code == 200, response.text
    claims = verify(gateway, response.json()["access_token"]).claims
    assert claims["scope"] == "cases:read"
    assert claims["tenants"] == {"ke-mombasa": ["case_worker"]}
    assert claims["org"] == "mombasa-county-programme"


def test_a_wrong_secret_is_invalid_client(gateway: TestClient, partner: dict[str, str]) -> None:
    response = gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(partner["client_id"], partner["client_secret"] + "x"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")


def test_an_unknown_client_is_invalid_client(gateway: TestClient) -> None:
    response = gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "hc_nobody", "client_secret": "s"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_scope_not_granted_is_invalid_scope(gateway: TestClient, partner: dict) -> None:
    response = gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "referrals:read audit:read"},
        auth=(partner["client_id"], partner["client_secret"]),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_other_grant_types_are_unsupported(gateway: TestClient, partner: dict) -> None:
    response = gateway.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "u", "password": "p"},
        auth=(partner["client_id"], partner["client_secret"]),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_a_revoked_client_gets_no_token(gateway: TestClient, database: ComponentDatabase, demo: dict) -> None:
    compliance = demo["mombasa-compliance"]
    credentials = (compliance["client_id"], compliance["client_secret"])
    data = {"grant_type": "client_credentials"}
    assert gateway.post("/oauth/token", data=data, auth=credentials).status_code == 200
    engine = sa.create_engine(database.app)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE clients SET revoked_at = now() WHERE client_id = :id"),
            {"id": compliance["client_id"]},
        )
    engine.dispose()
    response = gateway.post("/oauth/token", data=data, auth=credentials)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_secrets_are_stored_only_as_sha256_digests(database: ComponentDatabase, demo: dict) -> None:
    # Public clients (single-page apps) have no secret at all.
    stored = rows(database.owner, "SELECT client_id, secret_hash FROM clients WHERE client_type = 'confidential'")
    assert {row.client_id for row in stored} == {c["client_id"] for c in demo.values()}
    dump = " ".join(str(value) for row in stored for value in row)
    for client in demo.values():
        assert client["client_secret"] not in dump
    assert all(row.secret_hash.startswith("$sha256$") for row in stored)


def test_the_runtime_role_may_not_delete_registry_rows(database: ComponentDatabase) -> None:
    engine = sa.create_engine(database.app)
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), engine.begin() as c:
        c.execute(sa.text("DELETE FROM client_grants"))
    engine.dispose()


def test_seeding_again_keeps_client_ids_and_replaces_secrets(
    postgres: Any, signing_key_pem: bytes, tmp_path: Path
) -> None:
    database = migrated_database(postgres)
    first = seed_demo(database, tmp_path / "first.json")
    second = seed_demo(database, tmp_path / "second.json")
    assert {n: c["client_id"] for n, c in first.items()} == {n: c["client_id"] for n, c in second.items()}
    assert (tmp_path / "second.json").stat().st_mode & 0o077 == 0
    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app)
    with TestClient(create_app(settings)) as gateway:
        for name in first:
            old = (first[name]["client_id"], first[name]["client_secret"])
            new = (second[name]["client_id"], second[name]["client_secret"])
            data = {"grant_type": "client_credentials"}
            assert gateway.post("/oauth/token", data=data, auth=old).status_code == 401
            assert gateway.post("/oauth/token", data=data, auth=new).status_code == 200
    assert len(rows(database.owner, "SELECT * FROM tenants")) == len(TENANTS)
    assert len(rows(database.owner, "SELECT * FROM organisations")) == len(ORGANISATIONS) + len(PROVIDER_ORGANISATIONS)


def test_metadata_describes_the_token_endpoint(gateway: TestClient) -> None:
    metadata = gateway.get("/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == ISSUER
    assert metadata["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert metadata["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert metadata["grant_types_supported"] == ["client_credentials", "authorization_code"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert metadata["authorization_endpoint"] == f"{ISSUER}/oauth/authorize"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "referrals:write" in metadata["scopes_supported"]
    checked = AuthorizationServerMetadata(metadata)
    for field in AuthorizationServerMetadata.REGISTRY_KEYS:
        getattr(checked, f"validate_{field}")()


def test_readiness_reflects_the_database(gateway: TestClient, signing_key_pem: bytes) -> None:
    assert gateway.get("/readyz").json() == {"status": "ready"}
    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=NO_DATABASE)
    with TestClient(create_app(settings)) as without_database:
        assert without_database.get("/healthz").status_code == 200
        response = without_database.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"


def test_refused_token_requests_are_published_with_the_client_reference_only(
    gateway: TestClient, partner: dict[str, str], database: ComponentDatabase
) -> None:
    gateway.post("/oauth/token", data={"grant_type": "client_credentials"},
                 auth=(partner["client_id"], partner["client_secret"] + "x"))
    refused = rows(database.owner, "SELECT tenant_id, data FROM outbox WHERE type = 'token.refused' "
                   "AND data->>'client_id' = :c", c=partner["client_id"])
    assert refused and refused[-1].data["error"] == "invalid_client" and refused[-1].tenant_id == "platform"
    assert partner["client_secret"] not in str(refused[-1].data)
