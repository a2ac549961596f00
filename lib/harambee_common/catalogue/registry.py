"""Events published on `registry.events` by the gateway: its registry, agreements and sign-ins."""

from __future__ import annotations

TOPIC = "registry.events"
