"""deploy/OPERATIONS.md and deploy/README.md name the gateway's admin routes an operator calls: each one named
exists in the gateway's OpenAPI, with the method the documents give it."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.services import patched_env

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DOCUMENTS = (DEPLOY / "OPERATIONS.md", DEPLOY / "README.md")
# "POST /admin/v1/x", "-X PATCH \"$ISSUER/admin/v1/x\"", or a path alone (any method).
MENTION = re.compile(r"(?:\b(GET|POST|PUT|PATCH|DELETE) |-X (GET|POST|PUT|PATCH|DELETE) \"?\$ISSUER)?"
                     r"(/admin/v1/[A-Za-z0-9_{}.-]+(?:/[A-Za-z0-9_{}.-]+)*)")


@pytest.fixture(scope="module")
def admin_routes(tmp_path_factory) -> dict[str, set[str]]:
    """The gateway's admin routes and their methods, from the app itself (built, not started)."""
    keys = tmp_path_factory.mktemp("gateway-keys")
    signing = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (keys / "signing-key.pem").write_bytes(signing)
    (keys / "key-encryption-key").write_text(base64.b64encode(os.urandom(32)).decode())
    env = {"GATEWAY_SIGNING_KEY_FILE": str(keys / "signing-key.pem"),
           "GATEWAY_KEY_ENCRYPTION_KEY_FILE": str(keys / "key-encryption-key"),
           # Never connected to: the app is only built, its lifespan never runs.
           "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}
    with patched_env(env):
        from harambee_gateway.app import create_app

        paths = create_app().openapi()["paths"]
    return {path: {method.upper() for method in operations} for path, operations in paths.items()
            if path.startswith("/admin/")}


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")


def test_every_admin_route_the_documents_name_exists_with_its_method(admin_routes) -> None:
    mentions = [(m.group(1) or m.group(2), m.group(3).rstrip(".")) for document in DOCUMENTS
                for m in MENTION.finditer(document.read_text())]
    assert len(mentions) >= 10  # the onboarding, revocation and rotation steps
    patterns = {path: _template(path) for path in admin_routes}
    for method, mentioned in mentions:
        matching = [path for path, pattern in patterns.items() if pattern.match(mentioned)]
        assert matching, f"no admin route {mentioned}"
        if method:
            assert any(method in admin_routes[path] for path in matching), f"{method} {mentioned}"
