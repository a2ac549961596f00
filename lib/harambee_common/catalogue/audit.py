"""Events published on `audit.events` by the audit service."""

from __future__ import annotations

TOPIC = "audit.events"
