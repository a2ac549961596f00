"""Every service refuses forged, stale and misdirected tokens on its own, behind any gateway."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt

from tests.support.services import running_service
from tests.support.tokens import new_key

TENANT = "ke-mombasa"
SERVICES = {
    "intake": "/v1/tenants/ke-mombasa/referrals",
    "assessment": "/v1/tenants/ke-mombasa/cases",
    "interventions": "/v1/tenants/ke-mombasa/cases",
    "audit": "/v1/tenants/ke-mombasa/entries",
}
GOOD = {"tenants": {TENANT: ["case_worker", "compliance_officer"]}, "scope": "referrals:read cases:read audit:read"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned(header: dict, claims: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(scope="module", params=sorted(SERVICES))
def service(request, postgres, broker, issuer):
    with running_service(request.param, postgres=postgres, broker=broker, issuer=issuer) as (client, _):
        yield client, SERVICES[request.param]


def attacks(issuer) -> dict[str, str]:
    good = issuer.mint(**GOOD)
    header, claims = {"alg": "ES256", "typ": "at+jwt", "kid": issuer.key.kid}, claims_of(good)
    public_pem = issuer.key.as_pem(private=False)
    hs_header = {"alg": "HS256", "typ": "at+jwt", "kid": issuer.key.kid}
    signing_input = f"{b64(json.dumps(hs_header).encode())}.{b64(json.dumps(claims).encode())}"
    hs_signature = b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    head, _, signature = good.split(".")
    tampered_claims = {**claims, "tenants": {TENANT: ["case_worker", "compliance_officer", "intake_officer"]}}
    stranger = new_key()
    now = int(time.time())
    return {
        "alg none": unsigned({"alg": "none", "typ": "at+jwt"}, claims),
        "HMAC keyed with the public key": f"{signing_input}.{hs_signature}",
        "unknown kid": issuer.mint(**GOOD, header={"kid": "no-such-key"}),
        "another key with our kid": jwt.encode(header, claims, stranger),
        "expired": issuer.mint(**GOOD, iat=now - 3600, nbf=now - 3600, exp=now - 600),
        "not yet valid": issuer.mint(**GOOD, nbf=now + 600),
        "wrong issuer": issuer.mint(**GOOD, iss="https://evil.example"),
        "wrong audience": issuer.mint(**GOOD, aud="urn:someone-else"),
        "missing typ": jwt.encode({"alg": "ES256", "kid": issuer.key.kid}, claims, issuer.key),
        "id token typ": issuer.mint(**GOOD, header={"typ": "JWT"}),
        "tampered claims": f"{head}.{b64(json.dumps(tampered_claims).encode())}.{signature}",
        "garbage": "not.a.token",
    }


ATTACKS = [
    "alg none", "HMAC keyed with the public key", "unknown kid", "another key with our kid", "expired",
    "not yet valid", "wrong issuer", "wrong audience", "missing typ", "id token typ", "tampered claims",
    "garbage",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_forged_or_misdirected_token_is_refused(service, issuer, attack):
    client, path = service
    token = attacks(issuer)[attack]
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "items" not in response.json()


def test_the_genuine_token_is_accepted(service, issuer):
    client, path = service
    assert client.get(path, headers=issuer.headers(**GOOD)).status_code == 200


def test_a_scope_never_granted_is_refused(service, issuer):
    client, path = service
    response = client.get(path, headers=issuer.headers(tenants={TENANT: ["case_worker", "compliance_officer"]},
                                                      scope="registry:read"))
    assert response.status_code == 403


def test_a_scope_held_only_in_another_tenant_is_refused(service, issuer):
    client, path = service
    roles = ["case_worker", "compliance_officer"]
    elsewhere = {TENANT: ["aggregates:read"], "ke-nairobi": GOOD["scope"].split()}
    token = issuer.mint(tenants={TENANT: roles, "ke-nairobi": roles}, scope=GOOD["scope"], tenant_scopes=elsewhere)
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "items" not in response.json()
