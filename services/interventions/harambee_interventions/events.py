"""Where interventions' events come from (today its access records; the catalogue lists them)."""

from harambee_common.components import INTERVENTIONS
from harambee_common.event_source import EventSource

EVENTS = EventSource.of(INTERVENTIONS)
