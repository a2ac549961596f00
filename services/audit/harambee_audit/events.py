"""The events audit raises itself (checkpoints, and the record of officers' work on the log)."""

from __future__ import annotations

from harambee_common.components import AUDIT
from harambee_common.event_source import EventSource

# Where this service's events come from: its topic and source, said once (harambee_common.components).
EVENTS = EventSource.of(AUDIT)
