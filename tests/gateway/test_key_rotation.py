"""Signing-key rotation: published before it signs, kept until its tokens expire, no failed verification."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jws
from sqlalchemy.orm import Session

from harambee_common import auth as common_auth
from harambee_common.auth import KeyCache, TokenVerifier
from harambee_common.db import create_db_engine, session_factory
from harambee_common.problems import Unauthenticated
from harambee_gateway.app import create_app
from harambee_gateway.signing import RETENTION_MARGIN, KeyRing, SigningKey
from harambee_gateway.unit_of_work import registry_unit_of_work
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.conftest import (
    AUDIENCE,
    ISSUER,
    KEY_ENCRYPTION_KEY,
    gateway_settings,
    migrated_database,
    serving,
)
from tests.support.services import rows

TTL = 900


@contextmanager
def replicas(database: ComponentDatabase, pem: bytes, *, lead: float, count: int) -> Iterator[list[str]]:
    """count gateway replicas on one registry database, each on its own loopback port."""
    with ExitStack() as stack:
        urls = []
        for _ in range(count):
            settings = gateway_settings(signing_key_pem=pem, database_url=database.app, token_ttl_seconds=TTL)
            settings = type(settings)(
                **{
                    **settings.__dict__,
                    "signing_key_publish_lead_seconds": lead,
                    "signing_key_refresh_seconds": 0.2,
                }
            )
            urls.append(stack.enter_context(serving(create_app(settings))))
        yield urls


def issue(url: str, credentials: dict) -> str:
    response = httpx.post(
        f"{url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def kid_of(token: str) -> str:
    return jws.extract_compact(token.encode()).protected["kid"]


def admin_headers(url: str, demo: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(url, demo['platform-admin'])}"}


def test_rotating_under_load_fails_no_verification(
    database: ComponentDatabase, demo: dict, signing_key_pem: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Services refetch the JWKS on an unknown kid at most every REFETCH_INTERVAL; the lead outlasts it.
    monkeypatch.setattr(common_auth, "REFETCH_INTERVAL", 1.0)
    partner = demo["mombasa-youth-cso-system"]
    with replicas(database, signing_key_pem, lead=2.0, count=2) as urls:
        first, second = urls
        # A long-running service: one verifier, one key cache, for the whole run.
        verifier = TokenVerifier(keys=KeyCache(f"{first}/.well-known/jwks.json"), issuer=ISSUER, audience=AUDIENCE)
        early = issue(first, partner)
        verifier.verify(early)
        failures: list[str] = []
        kids: list[str] = []
        stop = threading.Event()

        def load() -> None:
            deadline = time.monotonic() + 30
            for n in range(5000):  # bounded in count and in time
                if stop.is_set() or time.monotonic() > deadline:
                    return
                token = issue(urls[n % 2], partner)  # tokens from both replicas
                kids.append(kid_of(token))
                try:
                    verifier.verify(token)
                except Unauthenticated as exc:
                    failures.append(f"{kid_of(token)}: {exc}")

        worker = threading.Thread(target=load)
        worker.start()
        try:
            made = []
            for _ in range(2):
                time.sleep(0.5)
                response = httpx.post(f"{second}/admin/v1/signing-keys", headers=admin_headers(second, demo))
                assert response.status_code == 201, response.text
                made.append(response.json()["kid"])
                time.sleep(3.5)  # well past the lead: the new key signs now
        finally:
            stop.set()
            worker.join(timeout=40)

        assert not failures, failures
        # On a busy machine tokens come a few a second. What matters is
        # that tokens kept coming under the old key and each new one, and every one verified.
        assert len(kids) >= 8
        assert kids[0] not in made, "tokens were issued under the key in force before the rotations"
        assert set(made) <= set(kids), "both rotated keys signed tokens during the run"
        assert kids[-1] == made[-1]
        # A token signed before the rotations still verifies for a service that starts only now.
        fresh = TokenVerifier(keys=KeyCache(f"{second}/.well-known/jwks.json"), issuer=ISSUER, audience=AUDIENCE)
        assert fresh.verify(early).client_id == partner["client_id"]
        states = {
            k["kid"]: k["state"]
            for k in httpx.get(f"{first}/admin/v1/signing-keys", headers=admin_headers(first, demo)).json()
        }
        assert states[made[-1]] == "signing"
        assert states[kid_of(early)] == "retiring"
        stored = rows(database.owner, "SELECT encrypted_private_key FROM signing_keys")
        assert all(b"PRIVATE KEY" not in bytes(r.encrypted_private_key) for r in stored)


def test_a_key_that_signed_before_publication_would_fail(
    database: ComponentDatabase, demo: dict, signing_key_pem: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: without the lead time, a service that fetched the JWKS recently refuses tokens."""
    monkeypatch.setattr(common_auth, "REFETCH_INTERVAL", 30.0)
    partner = demo["mombasa-youth-cso-system"]
    with replicas(database, signing_key_pem, lead=0.0, count=1) as (url,):
        verifier = TokenVerifier(keys=KeyCache(f"{url}/.well-known/jwks.json"), issuer=ISSUER, audience=AUDIENCE)
        verifier.verify(issue(url, partner))
        assert httpx.post(f"{url}/admin/v1/signing-keys", headers=admin_headers(url, demo)).status_code == 201
        with pytest.raises(Unauthenticated):
            verifier.verify(issue(url, partner))


def test_retired_keys_leave_the_jwks_once_their_tokens_have_expired(postgres: Any, signing_key_pem: bytes) -> None:
    database = migrated_database(postgres)
    ring = KeyRing(SigningKey(signing_key_pem), key_encryption_key=KEY_ENCRYPTION_KEY, token_ttl_seconds=TTL)
    engine = create_db_engine(database.app, pool_size=1)
    try:
        with registry_unit_of_work(session_factory(engine)) as uow:
            ring.load(db_session=uow.session)
            made = ring.rotate(uow=uow, publish_lead_seconds=60, actor="test")
        with Session(engine) as db_session:
            other_replica = KeyRing(SigningKey(signing_key_pem), key_encryption_key=KEY_ENCRYPTION_KEY,
                                    token_ttl_seconds=TTL)
            other_replica.load(db_session=db_session)
    finally:
        engine.dispose()
    before = ring.signing().kid
    start = made.signs_from
    at = {
        "published, not yet signing": start - timedelta(seconds=1),
        "signing": start + timedelta(seconds=1),
        "old key still needed": start + timedelta(seconds=TTL) + RETENTION_MARGIN - timedelta(seconds=1),
        "old key gone": start + timedelta(seconds=TTL) + RETENTION_MARGIN + timedelta(seconds=1),
    }
    for name, kids in (
        ("published, not yet signing", {before, made.key.kid}),
        ("signing", {before, made.key.kid}),
        ("old key still needed", {before, made.key.kid}),
        ("old key gone", {made.key.kid}),
    ):
        assert {k["kid"] for k in ring.public_jwks(at[name])["keys"]} == kids, name
        assert {k["kid"] for k in other_replica.public_jwks(at[name])["keys"]} == kids, name
    assert ring.signing(at["published, not yet signing"]).kid == before
    assert ring.signing(at["signing"]).kid == made.key.kid
    assert other_replica.signing(at["signing"]).kid == made.key.kid  # decrypted from the registry
    assert made.signs_from > datetime.now(UTC)
