"""The events intake raises: where they go, and their shape. Data holds references, never identity."""

from __future__ import annotations

from typing import Any

from harambee_common.components import INTAKE
from harambee_common.db import UnitOfWork
from harambee_common.event_source import EventSource
from harambee_common.events import Event

TOPIC = "intake.events"
SOURCE = "/harambee/intake"


def event(type_: str, uow: UnitOfWork, *, subject: str, data: dict[str, Any]) -> Event:
    """An intake event in the unit of work's tenant, keyed by subject."""
    return Event(type=type_, tenant=uow.tenant, topic=TOPIC, source=SOURCE, subject=subject, data=data)

# Where this service's events come from: its topic and source, said once (harambee_common.components).
EVENTS = EventSource.of(INTAKE)
