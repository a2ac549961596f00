"""Events published on `interventions.events` by the interventions service.

Today it publishes only what every service does (`access.recorded`, see `shared`); intervention
tracking adds its own types here, each before its first producer.
"""

from __future__ import annotations

TOPIC = "interventions.events"
