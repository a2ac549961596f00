"""Where intake's events go; their data models are in `harambee_common.catalogue.intake`."""

from harambee_common.components import INTAKE
from harambee_common.event_source import EventSource

# Where this service's events come from: its topic and source, said once (harambee_common.components).
EVENTS = EventSource.of(INTAKE)
