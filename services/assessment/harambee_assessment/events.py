"""Where assessment's events come from: cases, transfers and access records (the catalogue lists them)."""

from harambee_common.components import ASSESSMENT
from harambee_common.event_source import EventSource

EVENTS = EventSource.of(ASSESSMENT)
