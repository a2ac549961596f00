"""The topic and source of the events interventions raises (its access records)."""

from harambee_common.components import INTERVENTIONS
from harambee_common.event_source import EventSource

TOPIC = "interventions.events"
SOURCE = "/harambee/interventions"

# Where this service's events come from: its topic and source, said once (harambee_common.components).
EVENTS = EventSource.of(INTERVENTIONS)
