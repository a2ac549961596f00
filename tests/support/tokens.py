"""A stand-in token issuer for service-level tests: an EC key, its JWKS on loopback, RFC 9068 tokens.

End-to-end tests use the real gateway instead; this lets one service be tested alone.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

AUDIENCE = "urn:harambee:api"


class TestIssuer:
    """Signs access tokens the way the gateway does, and serves the public key."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", parameters={"kid": f"test-{uuid.uuid4().hex[:8]}"})
        self.issuer = "http://127.0.0.1/test-issuer"
        jwks = json.dumps({"keys": [self.key.as_dict(private=False, alg="ES256", use="sig")]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(jwks)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.jwks_url = f"http://127.0.0.1:{self._server.server_port}/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def env(self) -> dict[str, str]:
        """The environment a service needs to trust this issuer."""
        return {"HARAMBEE_ISSUER": self.issuer, "JWKS_URL": self.jwks_url, "HARAMBEE_AUDIENCE": AUDIENCE}

    def token(
        self,
        *,
        tenants: dict[str, list[str]],
        scope: str,
        org: str | None = None,
        subject: str = "test-client",
        header: dict[str, Any] | None = None,
        key: ECKey | None = None,
        **claims: Any,
    ) -> str:
        """A signed access token; keyword arguments override or add claims."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            "sub": subject,
            "client_id": subject,
            "scope": scope,
            "tenants": tenants,
        }
        if org is not None:
            payload["org"] = org
        payload.update(claims)
        signing_key = key or self.key
        protected = {"alg": "ES256", "typ": "at+jwt", "kid": signing_key.kid}
        protected.update(header or {})
        return jwt.encode(protected, payload, signing_key)

    def headers(self, **kwargs: Any) -> dict[str, str]:
        """An Authorization header carrying token(**kwargs)."""
        return {"Authorization": f"Bearer {self.token(**kwargs)}"}

    def close(self) -> None:
        """Stops serving the JWKS."""
        self._server.shutdown()


def issuer_fixture() -> Iterator[TestIssuer]:
    """Body of the session fixture `issuer`."""
    issuer = TestIssuer()
    yield issuer
    issuer.close()
