"""Reading the registry's events back from the real broker, as a consumer sees them."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from tests.support.services import rows

TOPIC = "registry.events"


@dataclass(frozen=True)
class Published:
    """One message as a consumer sees it."""

    key: str
    headers: dict[str, str]
    data: dict[str, Any]
    raw: bytes
    partition: int
    offset: int

    @property
    def id(self) -> str:
        """The CloudEvent id."""
        return self.headers["ce_id"]

    @property
    def type(self) -> str:
        """The CloudEvent type."""
        return self.headers["ce_type"]

    @property
    def tenant(self) -> str:
        """The tenant the event belongs to."""
        return self.headers["ce_tenant"]


def outbox_ids(owner_url: str) -> list[str]:
    """The ids of every event in the gateway's outbox, in order."""
    return [str(row.id) for row in rows(owner_url, "SELECT id FROM outbox ORDER BY seq")]


def outbox_keys(owner_url: str) -> dict[str, list[str]]:
    """The ids of each key's events in the gateway's outbox, in insertion order."""
    keys: dict[str, list[str]] = defaultdict(list)
    for row in rows(owner_url, "SELECT id, key FROM outbox ORDER BY seq"):
        keys[row.key].append(str(row.id))
    return dict(keys)


def read_events(bootstrap: str, ids: list[str], *, timeout: float = 30.0) -> list[Published]:
    """Every message on registry.events with one of these ids, duplicates included, in topic order.

    Topic order is each partition's offset order (partitions in turn): a key lives on one
    partition, so each key's events keep the order a consumer sees. Reading stops once every id has
    arrived and the partitions' ends (as they were then) are reached, so a copy sent before that is
    in the result.
    """
    wanted = set(ids)
    consumer = KafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )
    found: list[Published] = []
    ends: dict[TopicPartition, int] | None = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for partition, messages in consumer.poll(timeout_ms=500).items():
                for message in messages:
                    headers = {name: value.decode() for name, value in message.headers}
                    if headers.get("ce_id") in wanted:
                        found.append(Published(
                            key=message.key.decode(), headers=headers, data=json.loads(message.value),
                            raw=message.value + b"".join(v for _, v in message.headers),
                            partition=partition.partition, offset=message.offset,
                        ))
            if ends is None and wanted <= {p.id for p in found}:
                ends = consumer.end_offsets(list(consumer.assignment()))
            if ends is not None and all(consumer.position(tp) >= end for tp, end in ends.items()):
                break
    finally:
        consumer.close()
    return sorted(found, key=lambda p: (p.partition, p.offset))


def by_key(events: list[Published]) -> dict[str, list[str]]:
    """The event ids of each key, in the order a consumer reads them."""
    keys: dict[str, list[str]] = defaultdict(list)
    for event in events:
        keys[event.key].append(event.id)
    return dict(keys)


def repeated(events: list[Published]) -> dict[str, int]:
    """The ids that arrived more than once, with how many times."""
    return {i: n for i, n in Counter(e.id for e in events).items() if n > 1}
