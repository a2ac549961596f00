"""The topic and source of the events assessment raises (cases, transfers, access records)."""

from harambee_common.components import ASSESSMENT
from harambee_common.event_source import EventSource

TOPIC = "assessment.events"
SOURCE = "/harambee/assessment"

# Where this service's events come from: its topic and source, said once (harambee_common.components).
EVENTS = EventSource.of(ASSESSMENT)
