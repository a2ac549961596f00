"""What one log entry says, and its canonical encoding: the bytes that are hashed, stored and exported.

The encoding is JSON with sorted keys, no insignificant whitespace and UTF-8 text; the stored bytes
are the record, so nothing ever has to re-encode an entry to check it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harambee_common.events import Event

FORMAT_VERSION = 1

# The data keys services use for who acted, through which client, under which agreement and why.
ACTOR_KEYS = ("actor", "actor_id", "accessed_by")
CLIENT_KEYS = ("client_id", "client")
AGREEMENT_KEYS = ("agreement_id", "agreement")
PURPOSE_KEYS = ("purpose",)
# Break the glass: a read recorded with `"emergency": true` (and a `reason`) waits for a compliance review.
ACCESS_TYPE = "access.recorded"


# Built once: json.dumps with these options would build an encoder for every entry.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, compact separators, UTF-8; NaN and infinities are refused."""
    return _CANONICAL.encode(value).encode()


def rfc3339(moment: datetime) -> str:
    """A UTC timestamp with microseconds and a Z, the one time format in entries."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # isoformat, not strftime (twice as slow): "2025-01-01T00:00:00.000000+00:00" less the offset.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def _first_reference(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def is_emergency_access(event: Event) -> bool:
    """Whether the event records a read made under an emergency reason (JSON true, nothing else)."""
    return event.type == ACCESS_TYPE and event.data.get("emergency") is True


def emergency_reason(event: Event) -> str | None:
    """The reason an emergency access states, or None when it gives none."""
    reason = event.data.get("reason")
    return reason if isinstance(reason, str) and reason.strip() else None


@dataclass(frozen=True)
class EntryRecord:
    """One entry of a tenant's log, before it is encoded."""

    tenant: str
    seq: int
    prev: bytes | None
    event_id: str
    type: str
    source: str
    subject: str
    time: datetime
    recorded_at: datetime
    actor: str | None
    client_id: str | None
    agreement: str | None
    purpose: str | None
    traceparent: str | None
    data: dict[str, Any]

    @classmethod
    def from_event(
        cls, event: Event, *, seq: int, prev: bytes | None, recorded_at: datetime
    ) -> EntryRecord:
        """The entry that records event as number seq of its tenant's log."""
        return cls(
            tenant=event.tenant,
            seq=seq,
            prev=prev,
            event_id=event.id,
            type=event.type,
            source=event.source,
            subject=event.subject,
            time=event.time,
            recorded_at=recorded_at,
            actor=_first_reference(event.data, ACTOR_KEYS),
            client_id=_first_reference(event.data, CLIENT_KEYS),
            agreement=_first_reference(event.data, AGREEMENT_KEYS),
            purpose=_first_reference(event.data, PURPOSE_KEYS),
            traceparent=event.traceparent,
            data=event.data,
        )

    def document(self) -> dict[str, Any]:
        """The entry as the JSON object that is encoded."""
        return {
            "v": FORMAT_VERSION,
            "tenant": self.tenant,
            "seq": self.seq,
            "prev": self.prev.hex() if self.prev is not None else None,
            "event_id": self.event_id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": rfc3339(self.time),
            "recorded_at": rfc3339(self.recorded_at),
            "actor": self.actor,
            "client_id": self.client_id,
            "agreement": self.agreement,
            "purpose": self.purpose,
            "traceparent": self.traceparent,
            "data": self.data,
        }

    def canonical(self) -> bytes:
        """The bytes whose leaf hash is the entry's place in the tree."""
        return canonical_json(self.document())
