"""Noticing that a topic was born again: the broker forgot it (the embedded one keeps topics in memory).

A restarted in-memory broker, or a topic deleted and recreated, hands back an empty log under the same
name. The events on the old log that no consumer had read are gone, and a consumer's position may point
past the new log's end, or worse, into events it has never seen. Kafka gives each topic a fresh id when
it is created, so a changed id tells a reborn topic from a live one; relays then publish their outbox's
retained window again (`harambee_common.relay`) and consumers read the reborn topic from its beginning
(`harambee_common.consumer`), and the idempotent consumers absorb the repeats.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec

from harambee_common import kafka

log = logging.getLogger(__name__)


class TopicBirths:
    """Remembers each topic's id and says which were born again since the last look.

    Looks at most every `every` seconds unless forced (after an outage), so a busy relay or consumer
    spends one small metadata request per interval on it.
    """

    def __init__(self, bootstrap: str, topics: Iterable[str], *, every: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._bootstrap = bootstrap
        self._topics = sorted(set(topics))
        self._every = every
        self._clock = clock
        self._ids: dict[str, str] | None = None
        self._looked_at: float | None = None
        self._admin: KafkaAdminClient | None = None

    @property
    def first_look_done(self) -> bool:
        """Whether the ids have been read once (before that, nothing can be told reborn)."""
        return self._ids is not None

    def reborn(self, *, force: bool = False) -> set[str]:
        """The topics whose id changed since the last look (none at the first look, or when not yet due)."""
        now = self._clock()
        if not force and self._looked_at is not None and now - self._looked_at < self._every:
            return set()
        ids = self._read_ids()
        self._looked_at = now
        # A topic missing from the answer (a restarted broker has not had it created again yet) keeps the
        # id last seen, so that it counts as reborn once it is back under a new one.
        before, self._ids = self._ids, {**(self._ids or {}), **ids}
        if before is None:
            return set()
        changed = {topic for topic, topic_id in ids.items() if before.get(topic) not in (None, topic_id)}
        if changed:
            log.warning("topics born again (the broker forgot them): %s", ", ".join(sorted(changed)))
        return changed

    def empty(self) -> set[str]:
        """The topics whose every partition's log is empty (nothing was ever kept there)."""
        admin = self._ensure_admin()
        partitions = {
            TopicPartition(described["name"], p["partition_index"]): OffsetSpec.LATEST
            for described in admin.describe_topics(self._topics)
            for p in described["partitions"]
        }
        ends = admin.list_partition_offsets(partitions)
        totals: dict[str, int] = dict.fromkeys(self._topics, 0)
        for partition, end in ends.items():
            totals[partition.topic] += end.offset
        return {topic for topic, total in totals.items() if total == 0}

    def forget_connection(self) -> None:
        """Drops the admin connection (after an outage); the remembered ids stay."""
        if self._admin is not None:
            admin, self._admin = self._admin, None
            try:
                admin.close()
            except Exception:
                log.debug("closing a failed admin client", exc_info=True)

    def _read_ids(self) -> dict[str, str]:
        described = self._ensure_admin().describe_topics(self._topics)
        return {d["name"]: str(d["topic_id"]) for d in described if d.get("error_code", 0) == 0}

    def _ensure_admin(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = kafka.admin_client(self._bootstrap)
        return self._admin
