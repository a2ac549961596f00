"""kafka-python clients configured for this platform (idempotent producer, short-session consumers).

Authentication comes from the environment. With KAFKA_SASL_USERNAME set, every client signs in with SASL
SCRAM-SHA-512 as that principal, its password read from KAFKA_SASL_PASSWORD_FILE (never from a variable),
over SASL_PLAINTEXT, or SASL_SSL when KAFKA_SSL_CAFILE names the CA that signed the broker's certificate
(KAFKA_SECURITY_PROTOCOL overrides). The broker's ACLs then let each component's principal write only its
own topic. Without it the client speaks plaintext, unauthenticated: the embedded broker (Tansu) offers no
SASL, and listens on loopback only.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from harambee_common.components import TOPICS
from harambee_common.config import secret

log = logging.getLogger(__name__)

PARTITIONS = 3
# How long the broker may hold a consumer's fetch when it has nothing new. Kafka answers a waiting fetch
# the moment a record arrives, but the embedded broker (Tansu 0.6) does not: it reads its logs again
# only when a sleep inside the wait ends (at 0, 250, 375 and 500 ms of a 500 ms wait), so a record
# waited 94 ms on average and 250 ms at worst. A consumer that is receiving events therefore fetches
# with the short wait (a record waits at most that long), and one that has been idle for a while with
# the long one (two fetches a second, as before).
IDLE_FETCH_WAIT_MS = 500
ACTIVE_FETCH_WAIT_MS = 20
# A broker outage should surface within seconds, so relays and consumers retry on their own
# schedule instead of sitting in the client's 30 s bootstrap wait.
BOOTSTRAP_TIMEOUT_MS = 3000


def security() -> dict[str, Any]:
    """The clients' authentication settings from the environment (none: plaintext, for the embedded broker)."""
    username = os.environ.get("KAFKA_SASL_USERNAME")
    if not username:
        return {}
    password = secret("KAFKA_SASL_PASSWORD") if os.environ.get("KAFKA_SASL_PASSWORD_FILE") else None
    if not password:
        raise RuntimeError("KAFKA_SASL_USERNAME is set: KAFKA_SASL_PASSWORD_FILE must name its password's file")
    cafile = os.environ.get("KAFKA_SSL_CAFILE")
    settings: dict[str, Any] = {
        "security_protocol": os.environ.get("KAFKA_SECURITY_PROTOCOL", "SASL_SSL" if cafile else "SASL_PLAINTEXT"),
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }
    if cafile:
        settings["ssl_cafile"] = cafile
    return settings


def ensure_topics(bootstrap: str, topics: Iterable[str] = TOPICS) -> None:
    """Creates the topics that do not exist yet (a restarted in-memory broker has none).

    An authenticated client creates none: its principal may not, and the operator provisions the topics
    (compose's kafka-setup, Strimzi's KafkaTopics).
    """
    if security():
        return
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
    """An admin client that gives up within seconds when the broker is away (relays and consumers read topic
    ids with it, which a principal's Describe ACL allows)."""
    return KafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=5000, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        **security(),
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
        **security(),
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
        fetch_max_wait_ms=IDLE_FETCH_WAIT_MS,
        reconnect_backoff_max_ms=2000,
        request_timeout_ms=30000,
        metadata_max_age_ms=5000,
        bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        **security(),
    )


def fetch_wait(consumer: KafkaConsumer) -> int:
    """How long the broker may hold the consumer's next fetches, in milliseconds."""
    settings = _fetcher_settings(consumer)
    return (settings or consumer.config)["fetch_max_wait_ms"]


def set_fetch_wait(consumer: KafkaConsumer, wait_ms: int) -> None:
    """Sets how long the broker may hold the consumer's next fetches (see IDLE_FETCH_WAIT_MS).

    kafka-python reads the wait from its fetcher's settings each time it builds a fetch request, but
    offers no public way to change it after construction; without that attribute (another client
    version) the consumer keeps the wait it was built with, and only latency suffers.
    """
    settings = _fetcher_settings(consumer)
    if settings is not None:
        settings["fetch_max_wait_ms"] = wait_ms


def _fetcher_settings(consumer: KafkaConsumer) -> dict[str, Any] | None:
    settings = getattr(getattr(consumer, "_fetcher", None), "config", None)
    return settings if isinstance(settings, dict) and "fetch_max_wait_ms" in settings else None
