"""Reading the registry's events back from the real broker."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer

from tests.support.services import rows


@dataclass(frozen=True)
class Published:
    """One message as a consumer sees it."""

    key: str
    headers: dict[str, str]
    data: dict[str, Any]
    raw: bytes

    @property
    def type(self) -> str:
        return self.headers["ce_type"]

    @property
    def tenant(self) -> str:
        return self.headers["ce_tenant"]


def outbox_ids(owner_url: str) -> list[str]:
    """The ids of every event in the gateway's outbox, in order."""
    return [str(row.id) for row in rows(owner_url, "SELECT id FROM outbox ORDER BY seq")]


def read_events(bootstrap: str, ids: list[str], *, timeout: float = 30.0) -> list[Published]:
    """The messages on registry.events with these ids, read from the beginning, in topic order."""
    wanted = set(ids)
    consumer = KafkaConsumer(
        "registry.events",
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )
    found: dict[str, Published] = {}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < len(wanted):
            for messages in consumer.poll(timeout_ms=500).values():
                for message in messages:
                    headers = {name: value.decode() for name, value in message.headers}
                    if headers.get("ce_id") in wanted:
                        found[headers["ce_id"]] = Published(
                            key=message.key.decode(),
                            headers=headers,
                            data=json.loads(message.value),
                            raw=message.value + b"".join(v for _, v in message.headers),
                        )
    finally:
        consumer.close()
    return [found[i] for i in ids if i in found]
