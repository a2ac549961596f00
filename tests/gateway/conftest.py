"""Gateway test fixtures: a signing key, settings, and real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.types import ASGIApp

from harambee_common.config import Settings
from harambee_gateway.config import GatewaySettings

ISSUER = "http://127.0.0.1:8000"
AUDIENCE = "urn:harambee:api"
# Engines connect lazily: tests that never touch the registry can name a database that is absent.
NO_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:1/none"


@pytest.fixture(scope="session")
def signing_key_pem() -> bytes:
    """A fresh EC P-256 private key, PEM-encoded."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def gateway_settings(
    *,
    signing_key_pem: bytes,
    database_url: str = NO_DATABASE,
    upstreams: dict[str, str] | None = None,
    token_ttl_seconds: int = 900,
    relay_database_url: str | None = None,
    bootstrap: str | None = None,
    issuer: str = ISSUER,
) -> GatewaySettings:
    """Settings as the environment would give them, without touching the environment.

    The outbox relay runs only when a test names the relay's database and a broker.
    """
    return GatewaySettings(
        common=Settings(
            component="gateway",
            database_url=database_url,
            relay_database_url=relay_database_url or database_url,
            kafka_bootstrap_servers=bootstrap or "127.0.0.1:9092",
            issuer=issuer,
            audience=AUDIENCE,
            jwks_url=f"{issuer}/.well-known/jwks.json",
        ),
        signing_key_pem=signing_key_pem,
        token_ttl_seconds=token_ttl_seconds,
        upstreams=upstreams or {},
        upstream_pool_size=100,
        run_relay=relay_database_url is not None and bootstrap is not None,
    )


def free_port() -> int:
    """A port of 127.0.0.1 free just now, for a server whose URL must be known before it starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(app: ASGIApp, *, port: int = 0) -> Iterator[str]:
    """Serves app with uvicorn on 127.0.0.1 (a free port unless one is given); yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="auto", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def key_file(tmp_path: Path, signing_key_pem: bytes) -> Path:
    """The signing key written to a file, as GATEWAY_SIGNING_KEY_FILE names it."""
    path = tmp_path / "signing-key.pem"
    path.write_bytes(signing_key_pem)
    return path


def gateway_token(signing_key_pem: bytes, *, client_id: str, subject: str | None = None, **claims: Any) -> str:
    """An access token signed with the gateway's own key, as its token endpoint would issue it."""
    key = ECKey.import_key(signing_key_pem)
    key = ECKey.import_key(signing_key_pem, {"kid": key.thumbprint()})
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "sub": subject or client_id,
        "client_id": client_id,
        "scope": "referrals:read",
        "tenants": {"ke-mombasa": ["partner"]},
        **claims,
    }
    return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": key.kid}, payload, key)
