"""Events published on `assessment.events` by the assessment service."""

from __future__ import annotations

TOPIC = "assessment.events"
