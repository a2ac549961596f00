"""Events: the CloudEvents envelope, the outbox row, and the Kafka binary binding."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from harambee_common import signing
from harambee_common.tracing import current_traceparent

SPECVERSION = "1.0"

outbox = sa.table(
    "outbox",
    sa.column("id"),
    sa.column("tenant_id"),
    sa.column("topic"),
    sa.column("key"),
    sa.column("type"),
    sa.column("source"),
    sa.column("subject"),
    sa.column("time"),
    sa.column("traceparent"),
    sa.column("data", sa.JSON),
)
# The outbox's trigger NOTIFYs this channel when events are inserted; the relay LISTENs.
OUTBOX_CHANNEL = "harambee_outbox"


@dataclass(frozen=True)
class Event:
    """A domain event: references only, never names or contact details."""

    type: str
    tenant: str
    topic: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    traceparent: str | None = field(default_factory=current_traceparent.get)
    # The data as its catalogued model, once validated (see harambee_common.catalogue); not sent.
    payload: Any = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        """The partition key: one tenant's events about one subject stay in order."""
        return f"{self.tenant}:{self.subject}"

    def with_payload(self, payload: Any) -> Event:
        """The same event with its validated data model attached."""
        return replace(self, payload=payload)

    def headers(self) -> list[tuple[str, bytes]]:
        """The CloudEvents 1.0 Kafka binary-binding headers, signed with the topic's key (harambee_common.signing).

        The one place wire headers are built: the relay publishes with them, and tests hand them to consumers.
        """
        attrs = {
            "ce_specversion": SPECVERSION,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat(),
            "ce_tenant": self.tenant,
            "content-type": "application/json",
        }
        if self.traceparent:
            attrs["ce_traceparent"] = self.traceparent
        encoded = {name: value.encode() for name, value in attrs.items()}
        return [*encoded.items(), *signing.installed().sign(self.topic, encoded, self.value())]

    def value(self) -> bytes:
        """The message value: the event's JSON data."""
        return json.dumps(self.data, separators=(",", ":"), sort_keys=True).encode()

    def envelope(self) -> dict[str, Any]:
        """The event in the CloudEvents JSON format (for audit and exports)."""
        doc = {
            "specversion": SPECVERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "tenant": self.tenant,
            "datacontenttype": "application/json",
            "data": self.data,
        }
        if self.traceparent:
            doc["traceparent"] = self.traceparent
        return doc


class MalformedEvent(ValueError):
    """A message that is not a CloudEvent this platform understands."""


def from_message(topic: str, headers: list[tuple[str, bytes]], value: bytes | None) -> Event:
    """Decodes a Kafka message in the binary binding; raises MalformedEvent if it is not one."""
    attrs = {name: raw.decode("utf-8", "replace") for name, raw in headers or []}
    missing = [a for a in ("ce_id", "ce_type", "ce_source", "ce_tenant") if a not in attrs]
    if missing or attrs.get("ce_specversion") != SPECVERSION:
        raise MalformedEvent(f"not a CloudEvent: missing {missing or ['ce_specversion']}")
    try:
        data = json.loads(value) if value else {}
        time = datetime.fromisoformat(attrs["ce_time"]) if "ce_time" in attrs else datetime.now(UTC)
    except ValueError as exc:
        raise MalformedEvent(str(exc)) from exc
    if not isinstance(data, dict):
        raise MalformedEvent("event data must be a JSON object")
    return Event(
        type=attrs["ce_type"],
        tenant=attrs["ce_tenant"],
        topic=topic,
        source=attrs["ce_source"],
        subject=attrs.get("ce_subject", ""),
        data=data,
        id=attrs["ce_id"],
        time=time,
        traceparent=attrs.get("ce_traceparent"),
    )


# One statement for every event: built once, its compiled form is cached (a `.values()` per event was
# rebuilt and re-keyed on every publish, a measurable share of a referral's CPU).
OUTBOX_INSERT = outbox.insert()


def outbox_row(event: Event) -> dict[str, Any]:
    """The outbox row of an event: execute `OUTBOX_INSERT` with it."""
    return {
        "id": event.id,
        "tenant_id": event.tenant,
        "topic": event.topic,
        "key": event.key,
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "time": event.time,
        "traceparent": event.traceparent,
        "data": event.data,
    }
