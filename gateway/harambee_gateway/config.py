"""The gateway's settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harambee_common.components import GATEWAY, SERVICES
from harambee_common.config import Settings
from harambee_common.request_limits import DEFAULT_MAX_BODY_BYTES, max_body_bytes
from harambee_gateway.secret_box import read_key_encryption_key


def upstreams_from_env() -> dict[str, str]:
    """The base URL of each routed service, by its name (the first path segment of a public request).

    Each is read from the service's URL variable (`INTAKE_URL`, ...), by default its port on this machine.
    """
    return {
        service.name: os.environ.get(service.url_variable, f"http://127.0.0.1:{service.port}").rstrip("/")
        for service in SERVICES
    }


@dataclass(frozen=True)
class GatewaySettings:
    """Everything the gateway process reads from its environment."""

    common: Settings
    signing_key_pem: bytes
    # Seals every registry secret (secret_box); random, from a file, never a signing key.
    key_encryption_key: bytes
    token_ttl_seconds: int
    upstreams: dict[str, str]
    upstream_pool_size: int
    # The outbox relay publishes registry events; off only where a test has no broker.
    run_relay: bool = True
    agreement_expiry_interval_seconds: float = 60.0
    # A new signing key is published this long before it signs: longer than any verifier's cache.
    signing_key_publish_lead_seconds: float = 600.0
    signing_key_refresh_seconds: float = 5.0
    # Per client, at the proxy: a sustained rate and a burst; 0 turns the limit off.
    rate_limit_per_second: float = 0.0
    rate_limit_burst: float = 0.0
    # Unauthenticated OAuth endpoints, per client address and per client id (oauth_limits); 0 turns it off.
    oauth_rate_limit_per_second: float = 0.0
    oauth_rate_limit_burst: float = 0.0
    # Sign-in attempts per username, whoever makes them; 0 turns it off.
    sign_in_attempts_per_minute: float = 0.0
    sign_in_attempts_burst: float = 0.0
    # Request bodies beyond this are a 413, to the gateway's own routes and to every service's alike.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # KEKs being replaced: what they sealed still opens while `reseal-secrets` moves it (never used to seal).
    retired_key_encryption_keys: tuple[bytes, ...] = ()
    # How often finished minutes of counted token refusals are published (refusal_counts).
    refusal_summary_interval_seconds: float = 10.0

    @property
    def issuer(self) -> str:
        """The issuer URL, which is also the gateway's public base URL."""
        return self.common.issuer.rstrip("/")

    @classmethod
    def from_env(cls) -> GatewaySettings:
        """Reads the settings; fails at once when the signing key or the key-encryption key is not set."""
        key_file = os.environ.get("GATEWAY_SIGNING_KEY_FILE")
        if not key_file:
            raise RuntimeError(
                "gateway: GATEWAY_SIGNING_KEY_FILE is not set; it must name a PEM file holding "
                "the EC P-256 private key that signs access tokens"
            )
        try:
            pem = Path(key_file).read_bytes()
        except OSError as exc:
            raise RuntimeError(f"gateway: cannot read GATEWAY_SIGNING_KEY_FILE {key_file}: {exc}") from exc
        kek_file = os.environ.get("GATEWAY_KEY_ENCRYPTION_KEY_FILE")
        if not kek_file:
            raise RuntimeError(
                "gateway: GATEWAY_KEY_ENCRYPTION_KEY_FILE is not set; it must name a file holding base64 "
                "of 32 random bytes (openssl rand -base64 32), the key every sealed secret is under"
            )
        key_encryption_key = read_key_encryption_key(kek_file)
        retired = tuple(
            read_key_encryption_key(path.strip(), variable="GATEWAY_RETIRED_KEY_ENCRYPTION_KEY_FILES")
            for path in os.environ.get("GATEWAY_RETIRED_KEY_ENCRYPTION_KEY_FILES", "").split(",") if path.strip()
        )
        return cls(
            common=Settings.from_env(GATEWAY.name),
            signing_key_pem=pem,
            key_encryption_key=key_encryption_key,
            retired_key_encryption_keys=retired,
            token_ttl_seconds=int(os.environ.get("TOKEN_TTL_SECONDS", "900")),
            upstreams=upstreams_from_env(),
            upstream_pool_size=int(os.environ.get("UPSTREAM_POOL_SIZE", "1000")),
            agreement_expiry_interval_seconds=float(os.environ.get("AGREEMENT_EXPIRY_INTERVAL_SECONDS", "60")),
            signing_key_publish_lead_seconds=float(os.environ.get("SIGNING_KEY_PUBLISH_LEAD_SECONDS", "600")),
            signing_key_refresh_seconds=float(os.environ.get("SIGNING_KEY_REFRESH_SECONDS", "5")),
            rate_limit_per_second=float(os.environ.get("RATE_LIMIT_PER_SECOND", "100")),
            rate_limit_burst=float(os.environ.get("RATE_LIMIT_BURST", "200")),
            oauth_rate_limit_per_second=float(os.environ.get("OAUTH_RATE_LIMIT_PER_SECOND", "10")),
            oauth_rate_limit_burst=float(os.environ.get("OAUTH_RATE_LIMIT_BURST", "100")),
            sign_in_attempts_per_minute=float(os.environ.get("SIGN_IN_ATTEMPTS_PER_MINUTE", "10")),
            sign_in_attempts_burst=float(os.environ.get("SIGN_IN_ATTEMPTS_BURST", "10")),
            max_body_bytes=max_body_bytes(),
        )
