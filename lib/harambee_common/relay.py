"""The outbox relay: publishes committed events, in order, and marks them sent.

Between batches it sleeps until a transaction commits events (the outbox's trigger NOTIFYs, and
PostgreSQL delivers that at commit), so an event leaves at once and an idle service does not poll
its database twenty times a second. A slow poll remains, for a notification missed while the
listening connection was away.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from kafka import KafkaProducer

from harambee_common import kafka
from harambee_common.components import TOPICS
from harambee_common.db import create_db_engine
from harambee_common.events import OUTBOX_CHANNEL, Event
from harambee_common.topic_births import TopicBirths
from harambee_common.workers import PeriodicWorker

log = logging.getLogger(__name__)

BATCH = 200

# Several relays share the work: SKIP LOCKED lets each claim rows the others have not, without
# waiting. A key's events must still leave in order, so a claimed row is sent only if no earlier
# unpublished row of its key lies outside this claim (another relay holds it, mid-publish): those
# rows stay for a later batch, after the other relay has committed. The rows that could be outside
# lie before the end of the claim, so that check reads a few hundred rows through the partial index.
_CLAIM = sa.text(
    """
    WITH claimed AS MATERIALIZED (
        SELECT seq, id, tenant_id, topic, key, type, source, subject, time, traceparent, data
        FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT :batch FOR UPDATE SKIP LOCKED
    ), elsewhere AS (
        SELECT o.key, min(o.seq) AS first FROM outbox o
        WHERE o.published_at IS NULL AND o.seq < (SELECT max(seq) FROM claimed)
          AND o.key IN (SELECT key FROM claimed)
          AND NOT EXISTS (SELECT 1 FROM claimed c WHERE c.seq = o.seq)
        GROUP BY o.key
    )
    SELECT c.*, (e.first IS NULL OR c.seq < e.first) AS sendable
    FROM claimed c LEFT JOIN elsewhere e ON e.key = c.key ORDER BY c.seq
    """
)
# clock_timestamp(), not now() (the transaction's start, before the batch was even sent): published_at
# is when the broker had acknowledged the batch, which is what the latency figures read.
_MARK = sa.text("UPDATE outbox SET published_at = clock_timestamp() WHERE seq = ANY(:seqs)")

# The retained window: the published events a relay sends again when their topic is born again (a
# restarted in-memory broker forgot them). Published rows stay in the outbox; the newest of them, at
# most REPUBLISH_ROWS and none older than REPUBLISH_HOURS, are marked unpublished, and go out again in
# their order, before anything newer. Consumers older than the window have long read them.
REPUBLISH_HOURS = 24
REPUBLISH_ROWS = 100_000
_REPUBLISH = sa.text(
    """
    UPDATE outbox SET published_at = NULL
    WHERE seq IN (
        SELECT seq FROM outbox
        WHERE topic = ANY(:topics) AND published_at > now() - make_interval(hours => :hours)
        ORDER BY seq DESC LIMIT :rows
    )
    """
)


class OutboxRelay(PeriodicWorker):
    """A background worker; a broker outage delays events, it never loses one."""

    name = "outbox-relay"
    drains = True

    def __init__(self, *, engine: sa.Engine, bootstrap: str, idle_seconds: float = 2.0) -> None:
        super().__init__(interval=idle_seconds, first_run_after=0, max_backoff=5.0)
        self._engine = engine
        self._bootstrap = bootstrap
        self._births = TopicBirths(bootstrap, TOPICS)
        self._outage = True  # look at the topics at once: they may have been reborn while the relay was away
        self._producer: KafkaProducer | None = None
        self._listener: Any = None  # a pooled DBAPI connection, LISTENing
        self._owns_engine = False
        self._held_back = False  # the last batch found only rows waiting for another relay's batch

    @classmethod
    def for_database(cls, url: str, *, bootstrap: str) -> OutboxRelay:
        """A relay on its own small pool for the relay role's URL; stop() disposes of the pool."""
        relay = cls(engine=create_db_engine(url, pool_size=2), bootstrap=bootstrap)
        relay._owns_engine = True
        return relay

    def run_once(self) -> int:
        """Listens first (what commits during the batch wakes the next pause), then relays one batch."""
        self._ensure_listener()
        self.republish_reborn()
        return self.relay_once()

    def republish_reborn(self) -> int:
        """Marks the retained window of every reborn topic unpublished; returns how many events will go again.

        A topic is reborn when its id changed since the last look, or, at the relay's first look, when
        its log is empty though the outbox has published to it (the relay restarted with the broker).
        """
        if self._births.first_look_done:
            reborn = self._births.reborn(force=self._outage)
        else:
            self._births.reborn(force=True)
            reborn = self._births.empty()
        self._outage = False
        if not reborn:
            return 0
        with self._engine.connect() as conn, conn.begin():
            count = conn.execute(_REPUBLISH, {"topics": sorted(reborn), "hours": REPUBLISH_HOURS,
                                              "rows": REPUBLISH_ROWS}).rowcount
        if count:
            log.warning("publishing %d events again to reborn topics %s", count, ", ".join(sorted(reborn)))
        return count

    def pause(self, seconds: float) -> None:
        """Sleeps until events are committed, stop() is called, or the idle poll is due."""
        if self._held_back:
            self._stop.wait(0.1)  # another relay's commit sends no notification: look again soon
        elif self._listener is None or seconds <= 0:
            self._stop.wait(seconds)
        else:
            for _ in self._listener.driver_connection.notifies(timeout=seconds, stop_after=1):
                pass

    def wake(self) -> None:
        """Ends the pause at once: a notification on the channel the relay listens to."""
        self._wake()

    def recover(self) -> None:
        """A broker or database outage: reconnect both on the next pass, and look at the topics at once."""
        self._drop_producer()
        self._drop_listener()
        self._births.forget_connection()
        self._outage = True

    def close(self) -> None:
        """Releases the listener, the producer and the relay's own pool."""
        self._drop_listener()
        self._births.forget_connection()
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None
        if self._owns_engine:
            self._engine.dispose()

    def relay_once(self) -> int:
        """Publishes one batch; returns how many events were sent."""
        with self._engine.connect() as conn, conn.begin():
            claimed = conn.execute(_CLAIM, {"batch": BATCH}).mappings().all()
            rows = [row for row in claimed if row["sendable"]]
            self._held_back = bool(claimed) and not rows
            if not rows:
                return 0
            producer = self._ensure_producer()
            futures = []
            for row in rows:
                event = _event(row)
                futures.append(
                    producer.send(
                        row["topic"],
                        key=row["key"].encode(),
                        value=event.value(),
                        headers=event.headers(),
                    )
                )
            producer.flush(timeout=10)
            for future in futures:
                future.get(timeout=10)  # raises if the broker did not acknowledge
            conn.execute(_MARK, {"seqs": [row["seq"] for row in rows]})
        return len(rows)

    def _ensure_listener(self) -> None:
        if self._listener is None:
            listener = self._engine.raw_connection()
            listener.driver_connection.autocommit = True
            listener.driver_connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
            self._listener = listener

    def _drop_listener(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            try:
                listener.invalidate()  # its session state (LISTEN, autocommit) must not return to the pool
            except Exception:
                log.debug("closing a failed listener", exc_info=True)

    def _wake(self) -> None:
        try:
            with self._engine.connect() as conn, conn.begin():
                conn.execute(sa.select(sa.func.pg_notify(OUTBOX_CHANNEL, "")))
        except Exception:  # the database is away: the wait ends at its timeout anyway
            log.debug("waking the relay", exc_info=True)

    def _ensure_producer(self) -> KafkaProducer:
        if self._producer is None:
            kafka.ensure_topics(self._bootstrap)
            self._producer = kafka.producer(self._bootstrap)
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:
                log.debug("closing a failed producer", exc_info=True)
            self._producer = None


def _event(row: sa.RowMapping) -> Event:
    return Event(
        type=row["type"],
        tenant=row["tenant_id"],
        topic=row["topic"],
        source=row["source"],
        subject=row["subject"] or "",
        data=row["data"],
        id=str(row["id"]),
        time=row["time"],
        traceparent=row["traceparent"],
    )
