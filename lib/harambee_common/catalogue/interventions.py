"""Events published on `interventions.events` by the interventions service."""

from __future__ import annotations

TOPIC = "interventions.events"
