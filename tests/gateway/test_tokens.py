"""Access tokens as issued: RFC 9068 shape and the Harambee claims (no database needed)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import KeySet

from harambee_gateway.clients import Grant, RegisteredClient
from harambee_gateway.config import GatewaySettings
from harambee_gateway.oauth import HarambeeTokenGenerator, OAuthClient
from harambee_gateway.signing import SigningKey
from tests.gateway.conftest import AUDIENCE, ISSUER, KEY_ENCRYPTION_KEY

PARTNER = RegisteredClient(
    client_id="hc_partner",
    secret_hash="unused",
    organisation="mombasa-youth-cso",
    grants=(
        Grant(tenant="ke-mombasa", roles=("partner",), scopes=("referrals:write", "referrals:read")),
        Grant(tenant="ke-nairobi", roles=("partner",), scopes=("referrals:read",)),
    ),
)


def issue(key: SigningKey, client: RegisteredClient, scope: str | None = None) -> dict:
    generator = HarambeeTokenGenerator(issuer=ISSUER, audience=AUDIENCE, signing_key=key, ttl_seconds=600)
    return generator(grant_type="client_credentials", client=OAuthClient(client), scope=scope)


def test_token_is_an_es256_at_jwt_with_the_key_id(signing_key_pem: bytes) -> None:
    key = SigningKey(signing_key_pem)
    token = issue(key, PARTNER)["access_token"]
    jwks = KeySet.import_key_set(key.public_jwks())
    decoded = jwt.decode(token, jwks, algorithms=["ES256"])
    assert decoded.header == {"typ": "at+jwt", "alg": "ES256", "kid": key.kid}


def test_token_carries_the_harambee_claims(signing_key_pem: bytes) -> None:
    key = SigningKey(signing_key_pem)
    before = int(time.time())
    response = issue(key, PARTNER)
    claims = jwt.decode(
        response["access_token"], KeySet.import_key_set(key.public_jwks()), algorithms=["ES256"]
    ).claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE
    assert claims["sub"] == claims["client_id"] == "hc_partner"
    assert claims["tenants"] == {"ke-mombasa": ["partner"], "ke-nairobi": ["partner"]}
    assert claims["org"] == "mombasa-youth-cso"
    assert claims["scope"] == "referrals:read referrals:write"
    assert before <= claims["iat"] <= claims["nbf"] <= before + 2
    assert claims["exp"] == claims["iat"] + 600
    assert claims["jti"]
    assert response["expires_in"] == 600
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER}, aud={"essential": True, "value": AUDIENCE}
    ).validate(claims)


def test_a_client_without_an_organisation_gets_no_org_claim(signing_key_pem: bytes) -> None:
    key = SigningKey(signing_key_pem)
    client = RegisteredClient(client_id="hc_x", secret_hash="-", organisation=None, grants=())
    token = issue(key, client)["access_token"]
    claims = jwt.decode(token, KeySet.import_key_set(key.public_jwks())).claims
    assert "org" not in claims


def test_the_jwks_holds_only_the_public_key(signing_key_pem: bytes) -> None:
    jwks = SigningKey(signing_key_pem).public_jwks()
    (jwk,) = jwks["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in jwk


def test_requested_scopes_must_be_granted() -> None:
    client = OAuthClient(PARTNER)
    assert client.get_allowed_scope(None) == "referrals:read referrals:write"
    assert client.get_allowed_scope("referrals:read") == "referrals:read"
    assert client.get_allowed_scope("referrals:read audit:read") is None


def test_settings_fail_fast_without_a_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@127.0.0.1/x")
    with pytest.raises(RuntimeError, match="GATEWAY_SIGNING_KEY_FILE is not set"):
        GatewaySettings.from_env()


def test_settings_read_the_key_file_and_defaults(
    monkeypatch: pytest.MonkeyPatch, key_file: Path, kek_file: Path, signing_key_pem: bytes
) -> None:
    monkeypatch.setenv("GATEWAY_SIGNING_KEY_FILE", str(key_file))
    monkeypatch.setenv("GATEWAY_KEY_ENCRYPTION_KEY_FILE", str(kek_file))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@127.0.0.1/x")
    monkeypatch.delenv("TOKEN_TTL_SECONDS", raising=False)
    monkeypatch.setenv("AUDIT_URL", "http://audit.internal:9000/")
    settings = GatewaySettings.from_env()
    assert settings.signing_key_pem == signing_key_pem
    assert settings.key_encryption_key == KEY_ENCRYPTION_KEY
    assert settings.token_ttl_seconds == 900
    assert settings.upstreams["intake"] == "http://127.0.0.1:8101"
    assert settings.upstreams["audit"] == "http://audit.internal:9000"


def test_a_key_that_is_not_p256_is_refused() -> None:
    pem = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(RuntimeError, match="P-256"):
        SigningKey(pem)
