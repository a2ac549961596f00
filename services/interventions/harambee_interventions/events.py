"""Where interventions' events come from: its topic and source, said once (the catalogue lists the types)."""

from harambee_common.components import INTERVENTIONS
from harambee_common.event_source import EventSource

EVENTS = EventSource.of(INTERVENTIONS)
