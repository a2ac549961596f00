"""W3C trace context: one traceparent per request or consumed event, carried onto every event."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
current_traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)


def new_traceparent(parent: str | None = None) -> str:
    """A child span of parent (same trace id), or a new trace when parent is absent or malformed."""
    match = _TRACEPARENT.match(parent or "")
    trace_id = match.group(1) if match else secrets.token_hex(16)
    flags = match.group(3) if match else "01"
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def trace_id(traceparent: str | None) -> str | None:
    """The trace id of a traceparent header."""
    match = _TRACEPARENT.match(traceparent or "")
    return match.group(1) if match else None
