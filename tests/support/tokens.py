"""Access tokens for tests: an EC P-256 key, its JWKS served on 127.0.0.1, and RFC 9068 tokens.

    with TokenIssuer() as issuer:
        env = issuer.env()  # makes a service trust this issuer
        client.get(url, headers=issuer.headers(tenants={"ke-mombasa": ["compliance_officer"]}))

End-to-end tests use the real gateway instead; this lets one service be tested alone.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

AUDIENCE = "urn:harambee:api"
JWKS_PATH = "/.well-known/jwks.json"


def new_key() -> ECKey:
    """A fresh EC P-256 signing key with its thumbprint as kid."""
    key = ECKey.generate_key("P-256", private=True)
    return ECKey.import_key(
        key.as_dict(private=True), {"kid": key.thumbprint(), "alg": "ES256", "use": "sig"}
    )


class TokenIssuer:
    """A stand-in for the gateway's token signing: serves a JWKS and mints access tokens."""

    def __init__(self, *, audience: str = AUDIENCE) -> None:
        self.key = new_key()
        self.audience = audience
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.jwks_url = self.issuer + JWKS_PATH
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class JwksHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != JWKS_PATH:
                    self.send_error(404)
                    return
                body = json.dumps({"keys": [issuer.key.as_dict(private=False)]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return JwksHandler

    def start(self) -> TokenIssuer:
        """Starts serving the JWKS."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> TokenIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The variables that make a service trust this issuer."""
        return {
            "HARAMBEE_ISSUER": self.issuer,
            "HARAMBEE_AUDIENCE": self.audience,
            "JWKS_URL": self.jwks_url,
        }

    def mint(
        self,
        *,
        tenants: dict[str, list[str]],
        scope: str = "audit:read",
        sub: str = "officer-1",
        client_id: str = "compliance-console",
        org: str | None = None,
        lifetime: int = 300,
        key: ECKey | None = None,
        header: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """A signed access token; overrides replace or add claims (None removes one)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            "sub": sub,
            "client_id": client_id,
            "scope": scope,
            "tenants": tenants,
            # As the gateway issues them: the scopes held in each tenant (here, all of them in each).
            "tenant_scopes": {tenant: scope.split() for tenant in tenants},
        }
        if org is not None:
            claims["org"] = org
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        signing_key = key or self.key
        protected = {"alg": "ES256", "typ": "at+jwt", "kid": signing_key.kid, **(header or {})}
        return jwt.encode(protected, claims, signing_key)

    def headers(self, **kwargs: Any) -> dict[str, str]:
        """An Authorization header with a token from mint(**kwargs)."""
        return {"Authorization": f"Bearer {self.mint(**kwargs)}"}
