"""Settings read from the environment, with safe defaults for the embedded stack."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """What every service process reads from its environment."""

    component: str
    database_url: str
    relay_database_url: str
    kafka_bootstrap_servers: str
    issuer: str
    audience: str
    jwks_url: str
    # The service's own client at the gateway, for the registry's read API (agreement bootstrap).
    registry_client_id: str | None = None
    # Where the service reaches the gateway's token endpoint and registry (inside the deployment's network;
    # the issuer is the public URL): defaults to the issuer.
    gateway_url: str = ""
    registry_client_secret: str | None = None
    # RUN_RELAY=0: `serve` leaves the outbox to a `relay` process of its own (see cli.py).
    run_relay: bool = True
    # How often the agreement copy is confirmed against the registry's read API, and how old the last
    # confirmation may be before the service stops counting itself ready (agreement_sync).
    agreement_sync_interval_seconds: float = 300.0
    agreement_copy_max_age_seconds: float = 900.0
    # Prefixed to each consumer group's name (the subscription's): lets several copies of a service
    # share one broker as separate readers, as the tests do; empty in production.
    consumer_group_prefix: str = ""

    @classmethod
    def from_env(cls, component: str) -> Settings:
        """Reads the settings of one component; DATABASE_URL is required."""
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            raise RuntimeError(f"{component}: DATABASE_URL is not set")
        issuer = os.environ.get("HARAMBEE_ISSUER", "http://127.0.0.1:8000")
        return cls(
            component=component,
            database_url=database_url,
            relay_database_url=os.environ.get("RELAY_DATABASE_URL", database_url),
            kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            issuer=issuer,
            audience=os.environ.get("HARAMBEE_AUDIENCE", "urn:harambee:api"),
            jwks_url=os.environ.get("JWKS_URL", f"{issuer}/.well-known/jwks.json"),
            registry_client_id=secret("REGISTRY_CLIENT_ID"),
            gateway_url=os.environ.get("GATEWAY_URL", issuer),
            registry_client_secret=secret("REGISTRY_CLIENT_SECRET"),
            run_relay=os.environ.get("RUN_RELAY", "1") != "0",
            consumer_group_prefix=os.environ.get("KAFKA_CONSUMER_GROUP_PREFIX", ""),
            agreement_sync_interval_seconds=float(os.environ.get("AGREEMENT_SYNC_INTERVAL_SECONDS", "300")),
            agreement_copy_max_age_seconds=float(os.environ.get("AGREEMENT_COPY_MAX_AGE_SECONDS", "900")),
        )


KEY_BYTES = 32


def read_key_file(path: str | Path, *, variable: str) -> bytes:
    """A 256-bit key in a file: base64 of 32 random bytes (what `openssl rand -base64 32` writes).

    `variable` names where the path came from, for the error (a key is never taken from the environment itself).
    """
    try:
        text = Path(path).read_text().strip()
    except OSError as exc:
        raise RuntimeError(f"cannot read {variable} {path}: {exc}") from exc
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise RuntimeError(f"{variable} must hold base64 of {KEY_BYTES} random bytes")
    return key


def secret(name: str) -> str | None:
    """A secret from `<name>_FILE` (the file's content, stripped) or else from `<name>`; None when neither is set."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            with open(path) as file:
                return file.read().strip()
        except OSError as exc:
            raise RuntimeError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    return os.environ.get(name)
