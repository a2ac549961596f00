"""kafka-python clients configured for this platform (idempotent producer, short-session consumers)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from harambee_common.components import TOPICS

log = logging.getLogger(__name__)

PARTITIONS = 3
# A broker outage should surface within seconds, so relays and consumers retry on their own
# schedule instead of sitting in the client's 30 s bootstrap wait.
BOOTSTRAP_TIMEOUT_MS = 3000


def ensure_topics(bootstrap: str, topics: Iterable[str] = TOPICS) -> None:
    """Creates the topics that do not exist yet (a restarted in-memory broker has none)."""
    admin = admin_client(bootstrap)
    try:
        existing = set(admin.list_topics())
        missing = [NewTopic(t, PARTITIONS, 1) for t in topics if t not in existing]
        if missing:
            # Another process may create it between our list and create.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing)
    finally:
        admin.close()


def admin_client(bootstrap: str) -> KafkaAdminClient:
    """An admin client that gives up within seconds when the broker is away."""
    return KafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=5000, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS
    )


def producer(bootstrap: str) -> KafkaProducer:
    """An idempotent producer that waits for every in-sync replica."""
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_block_ms=5000,
        bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        request_timeout_ms=10000,
        reconnect_backoff_max_ms=2000,
    )


def consumer(bootstrap: str, *, group_id: str, topics: Iterable[str]) -> KafkaConsumer:
    """A manually committing consumer; short sessions because the embedded broker needs them."""
    return KafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        max_poll_records=200,
        reconnect_backoff_max_ms=2000,
        request_timeout_ms=30000,
        metadata_max_age_ms=5000,
        bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
    )
