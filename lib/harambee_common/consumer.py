"""Idempotent event consumers: the event id is recorded in the same transaction as its effect."""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace

import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from harambee_common import catalogue, kafka, signing
from harambee_common.catalogue import EventData
from harambee_common.db import UnitOfWork, set_tenant, unit_of_work
from harambee_common.events import Event, MalformedEvent, from_message
from harambee_common.topic_births import TopicBirths
from harambee_common.tracing import current_traceparent, new_traceparent
from harambee_common.workers import PeriodicWorker

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, Event], None]
# The registry's events (agreements) are applied first in a batch: other events are decided against
# the agreements, and one published before them must not lose to the order partitions came back in.
FIRST_TOPIC = "registry.events"
# After this long without an event a consumer fetches with the long wait again (kafka.IDLE_FETCH_WAIT_MS):
# events that come in a stream are fetched within kafka.ACTIVE_FETCH_WAIT_MS, and an idle stack costs
# what it did.
ACTIVE_SECONDS = 10.0


class RetryLater(Exception):
    """An event that cannot be applied yet: something it relies on (an agreement) has not arrived.

    Like an outage, the batch is rolled back and its offsets are not committed: the consumer pauses
    and applies it again, rather than parking it. Handlers bound how long they ask for this.
    """

_RECORD = sa.text(
    "INSERT INTO processed_events (consumer, event_id, tenant_id, type, outcome, error) "
    "VALUES (:consumer, :event_id, :tenant, :type, :outcome, :error) "
    "ON CONFLICT (consumer, event_id) DO NOTHING"
)
# A batch's ids in one statement: it returns those recorded now, i.e. the events not applied before.
_RECORD_NEW = sa.text(
    "INSERT INTO processed_events (consumer, event_id, tenant_id, type, outcome) "
    "SELECT :consumer, e.id, :tenant, e.type, 'applied' "
    "FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[])) AS e(id, type) "
    "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
)


@dataclass(frozen=True)
class Subscription:
    """Which topics a consumer reads, and the handler per event type (others are skipped).

    Handlers are keyed by the event's catalogued data model (`{ReferralAccepted: on_referral_accepted}`);
    a handler reads the validated data with `ReferralAccepted.of(event)`.
    """

    name: str
    topics: tuple[str, ...]
    handlers: Mapping[type[EventData] | str, Handler]
    fallback: Handler | None = None  # for consumers that take every type (audit)

    def __post_init__(self) -> None:
        by_type = {key if isinstance(key, str) else key.type: handler for key, handler in self.handlers.items()}
        object.__setattr__(self, "handlers", by_type)

    def handler_for(self, event_type: str) -> Handler | None:
        """The handler of an event type, the fallback, or None when this consumer skips it."""
        return self.handlers.get(event_type, self.fallback)  # type: ignore[call-overload]


class EventConsumer(PeriodicWorker):
    """Applies each event of its subscription once, then commits the offset (a background worker)."""

    drains = True

    def __init__(
        self,
        *,
        subscription: Subscription,
        sessions: sessionmaker[Session],
        bootstrap: str,
        group_id: str | None = None,
    ) -> None:
        self.name = f"consumer-{subscription.name}"
        # No pause between polls: the poll itself waits up to half a second for messages.
        super().__init__(interval=0, first_run_after=0, max_backoff=5.0, stop_timeout=20)
        self.subscription = subscription
        self._sessions = sessions
        self._bootstrap = bootstrap
        self._group_id = group_id or subscription.name
        self._client: KafkaConsumer | None = None
        self._births = TopicBirths(bootstrap, subscription.topics)
        self._outage = False
        self._active_until: float | None = None  # while events come, fetch with the short wait
        self.active_seconds = ACTIVE_SECONDS
        self.active_fetch_wait_ms = kafka.ACTIVE_FETCH_WAIT_MS  # the long wait here turns the pacing off

    def run_once(self) -> int:
        """Polls one batch and applies it; returns how many messages it held."""
        client = self._ensure_client()
        self._rewind_reborn(client)
        batch = client.poll(timeout_ms=500)
        self._pace_fetches(client, received=bool(batch))
        if batch:
            self._apply_batch(client, batch)
        return sum(len(records) for records in batch.values())

    @property
    def fetch_wait_ms(self) -> int | None:
        """How long the broker may hold this consumer's next fetch (None before it has a client)."""
        return None if self._client is None else kafka.fetch_wait(self._client)

    def _pace_fetches(self, client: KafkaConsumer, *, received: bool) -> None:
        """Short fetch waits while events come, the long one after ACTIVE_SECONDS without any."""
        now = time.monotonic()
        if received:
            if self._active_until is None:
                kafka.set_fetch_wait(client, self.active_fetch_wait_ms)
            self._active_until = now + self.active_seconds
        elif self._active_until is not None and now >= self._active_until:
            kafka.set_fetch_wait(client, kafka.IDLE_FETCH_WAIT_MS)
            self._active_until = None

    def _rewind_reborn(self, client: KafkaConsumer) -> None:
        """Reads a reborn topic from its beginning: the position held is in a log that no longer exists.

        A restarted in-memory broker forgets the group's offsets too, so a consumer that rejoins starts at
        the beginning anyway; this covers the one that kept its position through the restart. Events
        read again are recorded as processed already, and skipped.
        """
        try:
            reborn = self._births.reborn(force=self._outage)
        except Exception:  # the broker is away: the client rides that out itself; look again next pass
            log.debug("consumer %s: could not read the topics' ids", self.subscription.name, exc_info=True)
            self._births.forget_connection()
            self._outage = True
            return
        self._outage = False
        partitions = [tp for tp in client.assignment() if tp.topic in reborn]
        if partitions:
            log.warning("consumer %s: reading reborn %s from the beginning", self.subscription.name,
                        ", ".join(sorted(reborn)))
            client.seek_to_beginning(*partitions)

    def recover(self) -> None:
        """A broker or database outage: reconnect (uncommitted offsets are read again), look at the topics."""
        self.close()
        self._outage = True

    def close(self) -> None:
        """Leaves the group without committing anything not yet applied."""
        self._births.forget_connection()
        self._active_until = None  # a new client starts with the long wait
        if self._client is not None:
            client, self._client = self._client, None
            try:
                client.close(autocommit=False)
            except Exception:
                log.debug("closing a failed consumer", exc_info=True)

    def _ensure_client(self) -> KafkaConsumer:
        if self._client is None:
            kafka.ensure_topics(self._bootstrap, self.subscription.topics)
            self._client = kafka.consumer(self._bootstrap, group_id=self._group_id, topics=self.subscription.topics)
        return self._client

    def _apply_batch(self, client: KafkaConsumer, batch: dict) -> None:
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        messages: list[tuple[str, list[tuple[str, bytes]], bytes | None]] = []
        for partition, records in batch.items():
            messages += [(r.topic, r.headers, r.value) for r in records]
            offsets[partition] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
        self.apply_many(messages)
        # After the database commit: a crash in between means a redelivery, which is harmless.
        client.commit(offsets)

    def apply(self, topic: str, headers: Iterable[tuple[str, bytes]], value: bytes | None) -> bool:
        """Applies one message; returns False when it was a duplicate, not for us, or failed."""
        decoded = self._decode(topic, headers, value)
        return decoded is not None and self._apply_alone(*decoded)

    def apply_many(self, messages: Iterable[tuple[str, Iterable[tuple[str, bytes]], bytes | None]]) -> int:
        """Applies messages in one transaction (one commit per poll, not per event); returns how many.

        The registry's events go first (FIRST_TOPIC); otherwise each topic's keep their order. If any
        event fails, the batch is rolled back and each event is applied alone, so that only the
        failing one is parked.
        """
        ordered = sorted(messages, key=lambda m: m[0] != FIRST_TOPIC)  # a stable sort
        decoded = [d for d in (self._decode(*m) for m in ordered) if d is not None]
        if not decoded:
            return 0
        try:
            applied = 0
            with self._sessions() as session, session.begin():
                # A batch may span tenants: each run of one tenant's events is recorded in one statement,
                # then applied (handlers restore any tenant they change).
                for tenant, group in itertools.groupby(decoded, key=lambda d: d[0].tenant):
                    run = list(group)
                    set_tenant(session, tenant)
                    new = self._record_new(session, tenant, [event for event, _ in run])
                    uow = UnitOfWork(session, tenant)
                    for event, handler in run:
                        if event.id in new:
                            new.discard(event.id)  # the same event twice in one batch: applied once
                            with _traced(event):
                                handler(uow, event)
                            applied += 1
                    uow.write_events()
            return applied
        except Exception as exc:
            if _is_outage(exc):
                raise  # the database is away: do not commit the offsets, retry later
        return sum(self._apply_alone(event, handler) for event, handler in decoded)

    def _decode(
        self, topic: str, headers: Iterable[tuple[str, bytes]], value: bytes | None
    ) -> tuple[Event, Handler] | None:
        headers = list(headers or [])
        try:
            event = from_message(topic, headers, value)
        except MalformedEvent as exc:
            log.error("consumer %s: dropping a malformed message on %s: %s", self.subscription.name, topic, exc)
            return None
        handler = self.subscription.handler_for(event.type)
        if handler is None:
            return None
        try:
            # Only what its producer signed is applied (audit included: the log records what components said),
            # and only the types that producer publishes: intake's key makes no agreement event.
            signing.installed().verify(topic, headers, value)
            catalogue.check_published_on(event.type, topic)
        except signing.UnverifiedEvent as exc:
            log.error("consumer %s: event %s (%s) on %s is not its producer's: %s",
                      self.subscription.name, event.id, event.type, topic, exc)
            # Parked under an id of its own: a forgery that reuses a genuine event's id must not make the
            # genuine one look applied already.
            digest = hashlib.sha256(repr((topic, headers, value)).encode()).hexdigest()[:16]
            self._park(replace(event, id=f"unverified:{event.id[:64]}:{digest}"), f"UnverifiedEvent: {exc}")
            return None
        try:
            event = catalogue.validated(event)
        except MalformedEvent as exc:
            # Not a type any component publishes, or the producer and this consumer disagree on its
            # shape: park it and apply nothing (audit included: the log records what components said).
            log.error("consumer %s: event %s does not fit the catalogue: %s", self.subscription.name, event.id, exc)
            self._park(event, "MalformedEvent")
            return None
        return event, handler

    def _apply_in(self, uow: UnitOfWork, event: Event, handler: Handler) -> bool:
        if not self._record(uow, event, outcome="applied", error=None):
            return False  # a redelivery: its effect is already committed
        handler(uow, event)
        return True

    def _apply_alone(self, event: Event, handler: Handler) -> bool:
        try:
            with _traced(event), unit_of_work(self._sessions, event.tenant) as uow:
                return self._apply_in(uow, event, handler)
        except Exception as exc:
            if _is_outage(exc):
                raise
            error = exc  # a bug or bad data: park the event rather than block the topic
        log.error("consumer %s: event %s (%s) failed: %s",
                  self.subscription.name, event.id, event.type, type(error).__name__)
        self._park(event, type(error).__name__)
        return False

    def _park(self, event: Event, error: str) -> None:
        """Records an event as failed, so that it is neither applied nor retried."""
        with unit_of_work(self._sessions, event.tenant) as uow:
            self._record(uow, event, outcome="failed", error=error)

    def _record_new(self, session: Session, tenant: str, events: list[Event]) -> set[str]:
        ids = session.scalars(_RECORD_NEW, {"consumer": self.subscription.name, "tenant": tenant,
                                            "ids": [e.id for e in events], "types": [e.type for e in events]})
        return set(ids)

    def _record(self, uow: UnitOfWork, event: Event, *, outcome: str, error: str | None) -> bool:
        result = uow.session.execute(
            _RECORD,
            {
                "consumer": self.subscription.name,
                "event_id": event.id,
                "tenant": event.tenant,
                "type": event.type,
                "outcome": outcome,
                "error": error,
            },
        )
        return result.rowcount == 1


def _is_outage(exc: Exception) -> bool:
    """Whether to retry later (the database failed, or the event asked to wait) rather than park the event."""
    return (isinstance(exc, OperationalError | RetryLater)
            or (isinstance(exc, DBAPIError) and exc.connection_invalidated))


@contextmanager
def _traced(event: Event) -> Iterator[None]:
    """Continues the event's trace for everything its handler does."""
    token = current_traceparent.set(new_traceparent(event.traceparent))
    try:
        yield
    finally:
        current_traceparent.reset(token)
