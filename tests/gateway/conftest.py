"""Gateway test fixtures: a signing key, settings, real HTTP servers on 127.0.0.1, and a seeded registry.

The registry fixtures are module-scoped: each test module gets its own migrated, seeded database
and its own gateway on it, so one module's records never show in another's lists.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.types import ASGIApp

from harambee_common.config import Settings
from harambee_common.migrations import upgrade
from harambee_gateway.__main__ import main
from harambee_gateway.app import create_app
from harambee_gateway.config import GatewaySettings
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.browser import Browser, spa_callback
from tests.gateway.issuer import AUDIENCE, ISSUER
from tests.support.services import patched_env

# Engines connect lazily: tests that never touch the registry can name a database that is absent.
NO_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:1/none"
# The session's key-encryption key: every gateway the tests start on one registry seals under it.
KEY_ENCRYPTION_KEY = os.urandom(32)


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
    key_encryption_key: bytes = KEY_ENCRYPTION_KEY,
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
        key_encryption_key=key_encryption_key,
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


def write_key_encryption_key(path: Path, key: bytes = KEY_ENCRYPTION_KEY) -> Path:
    """A KEK written to a file, as GATEWAY_KEY_ENCRYPTION_KEY_FILE names it (base64, owner-only)."""
    path.write_text(base64.b64encode(key).decode() + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def kek_file(tmp_path: Path) -> Path:
    """The session's key-encryption key in a file."""
    return write_key_encryption_key(tmp_path / "key-encryption-key")


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


# --- a seeded registry and a gateway on it -------------------------------------------------------


def migrated_database(postgres: Any) -> ComponentDatabase:
    """A fresh registry database with every migration applied."""
    database = postgres.provision("gateway")
    upgrade(package="harambee_gateway", url=database.owner)
    return database


def seed_demo(database: ComponentDatabase, out: Path) -> dict[str, dict[str, str]]:
    """Runs `seed-demo` as the runtime role; returns the demo clients by name."""
    with patched_env({"DATABASE_URL": database.app}):
        main(["seed-demo", "--out", str(out), "--gateway-url", ISSUER])
    document = json.loads(out.read_text())
    assert document["gateway"] == ISSUER
    return {client["name"]: client for client in document["clients"]}


@pytest.fixture(scope="module")
def database(postgres: Any) -> ComponentDatabase:
    """The module's registry database."""
    return migrated_database(postgres)


@pytest.fixture(scope="module")
def demo(database: ComponentDatabase, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """The demo registry seeded into the module's database: its clients' credentials, by name."""
    return seed_demo(database, tmp_path_factory.mktemp("seed") / "demo.json")


@pytest.fixture(scope="module")
def gateway(database: ComponentDatabase, signing_key_pem: bytes) -> Iterator[TestClient]:
    """The gateway on the module's database, called in process."""
    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def gateway_url(database: ComponentDatabase, signing_key_pem: bytes) -> Iterator[str]:
    """The gateway on the module's database, served over HTTP (for a browser, or a stand-in it redirects to)."""
    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app)
    with serving(create_app(settings)) as url:
        yield url


def token_for(http: httpx.Client, client_id: str, secret: str) -> httpx.Response:
    """The token endpoint's answer to a client-credentials request (client_secret_basic)."""
    return http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))


def bearer(http: httpx.Client, credentials: dict) -> dict[str, str]:
    """The Authorization header of a fresh token for a client's credentials."""
    response = token_for(http, credentials["client_id"], credentials["client_secret"])
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def admin(gateway: TestClient, demo: dict) -> dict[str, str]:
    """The Authorization header of the seeded platform administrator."""
    credentials = demo["platform-admin"]
    assert (credentials["tenant"], credentials["scope"]) == ("platform", "registry:admin")
    return bearer(gateway, credentials)


# --- people signing in through a browser ---------------------------------------------------------


@pytest.fixture(scope="module")
def admin_api(gateway_url: str, demo: dict) -> Iterator[httpx.Client]:
    """An HTTP client of the served gateway holding the platform administrator's token."""
    with httpx.Client(base_url=gateway_url) as client:
        client.headers.update(bearer(client, demo["platform-admin"]))
        yield client


@pytest.fixture(scope="module")
def callback_url() -> Iterator[str]:
    """The stand-in single-page app's redirect URI."""
    with serving(spa_callback) as url:
        yield f"{url}/callback"


@pytest.fixture(scope="module")
def app_client_id(admin_api: httpx.Client, callback_url: str) -> str:
    """A single-page app registered through the admin API, redirecting to the stand-in."""
    response = admin_api.post(
        "/admin/v1/clients",
        json={
            "name": f"web-{uuid.uuid4().hex[:6]}",
            "client_type": "public",
            "redirect_uris": [callback_url],
            "allowed_scopes": ["referrals:read", "referrals:write", "cases:read"],
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["client_secret"] is None
    return response.json()["client_id"]


@pytest.fixture
def browser(gateway_url: str, app_client_id: str, callback_url: str) -> Iterator[Browser]:
    """A person's browser, fresh for each test, signing in to the registered app."""
    browser = Browser(gateway_url, app_client_id, callback_url)
    yield browser
    browser.http.close()
