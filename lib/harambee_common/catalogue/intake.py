"""Events published on `intake.events` by the intake service."""

from __future__ import annotations

TOPIC = "intake.events"
