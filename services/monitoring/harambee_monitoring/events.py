"""Where monitoring's events come from: its releases to other tenants, and agreement decisions."""

from harambee_common.components import MONITORING
from harambee_common.event_source import EventSource

EVENTS = EventSource.of(MONITORING)
