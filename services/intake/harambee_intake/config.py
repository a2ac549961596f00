"""Intake's own settings, read from the environment once, when the app is built."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

MAX_BACKOFF_SECONDS = 6 * 3600


@dataclass(frozen=True)
class WebhookConfig:
    """How webhooks are checked and delivered; every value has an environment variable."""

    allow_private: bool = False  # INTAKE_WEBHOOK_ALLOW_PRIVATE_NETWORKS=1: http and private addresses
    poll_seconds: float = 1.0  # INTAKE_WEBHOOK_POLL_SECONDS
    retry_base_seconds: float = 30.0  # INTAKE_WEBHOOK_RETRY_BASE_SECONDS: first retry after about this
    max_attempts: int = 8  # INTAKE_WEBHOOK_MAX_ATTEMPTS
    timeout_seconds: float = 10.0  # INTAKE_WEBHOOK_TIMEOUT_SECONDS: per attempt
    batch: int = 20  # deliveries leased per tenant per round
    hold_seconds: float = 300.0  # INTAKE_WEBHOOK_HOLD_SECONDS: a delivery no agreement permits is looked at again

    @classmethod
    def from_env(cls) -> WebhookConfig:
        """The configuration in the environment, with these defaults."""
        env = os.environ.get
        return cls(
            allow_private=env("INTAKE_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "0") == "1",
            poll_seconds=float(env("INTAKE_WEBHOOK_POLL_SECONDS", cls.poll_seconds)),
            retry_base_seconds=float(env("INTAKE_WEBHOOK_RETRY_BASE_SECONDS", cls.retry_base_seconds)),
            max_attempts=int(env("INTAKE_WEBHOOK_MAX_ATTEMPTS", cls.max_attempts)),
            timeout_seconds=float(env("INTAKE_WEBHOOK_TIMEOUT_SECONDS", cls.timeout_seconds)),
            hold_seconds=float(env("INTAKE_WEBHOOK_HOLD_SECONDS", cls.hold_seconds)),
        )

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt after this many: exponential, capped, with ±20% jitter."""
        delay = min(self.retry_base_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
        return delay * random.uniform(0.8, 1.2)


def export_sources_from_env() -> dict[str, str]:
    """INTAKE_SUBJECT_EXPORT_SOURCES ("assessment=http://127.0.0.1:8102,..."): name -> base URL."""
    sources = {}
    for item in os.environ.get("INTAKE_SUBJECT_EXPORT_SOURCES", "").split(","):
        name, _, url = item.partition("=")
        if name.strip() and url.strip():
            sources[name.strip()] = url.strip().rstrip("/")
    return sources


@dataclass(frozen=True)
class IntakeConfig:
    """What intake reads from its environment beyond the shared settings."""

    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    # The other services an access request gathers the person's data from (see rights.service).
    export_sources: dict[str, str] = field(default_factory=dict)
    # INTAKE_RETENTION_INTERVAL_SECONDS: how often retention runs in every tenant (0 turns it off).
    retention_interval: float = 86400.0

    @classmethod
    def from_env(cls) -> IntakeConfig:
        """The configuration in the environment, with these defaults."""
        return cls(
            webhooks=WebhookConfig.from_env(), export_sources=export_sources_from_env(),
            retention_interval=float(os.environ.get("INTAKE_RETENTION_INTERVAL_SECONDS", "86400")),
        )
