"""The event spine against the real PostgreSQL and broker: outbox, relay, idempotent consumers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from kafka import KafkaConsumer

from harambee_assessment.consumers import SUBSCRIPTION as ASSESSMENT
from harambee_common import kafka
from harambee_common.components import ASSESSMENT as ASSESSMENT_COMPONENT
from harambee_common.consumer import EventConsumer
from harambee_common.db import create_db_engine, session_factory, unit_of_work
from harambee_common.events import Event
from harambee_common.migrations import upgrade
from harambee_common.relay import BATCH, OutboxRelay
from harambee_stack.broker import Broker
from tests.support.event_keys import key_files
from tests.support.services import rows

TENANT = "ke-mombasa"


@pytest.fixture
def assessment_db(postgres):
    database = postgres.provision("assessment")
    upgrade(package="harambee_assessment", url=database.owner)
    return database


@pytest.fixture
def own_broker(broker, tmp_path: Path):
    """A broker of the test's own, for tests that time a consumer: on the session's broker a new consumer
    group first reads everything earlier tests published to its topics, and the events timed wait behind
    that backlog (a CI run measured a 16 s median so). An external broker (KAFKA_BOOTSTRAP_SERVERS) is shared."""
    if not broker.embedded:
        yield broker
        return
    own = Broker.start_default(log_path=tmp_path / "broker.log")
    yield own
    own.stop()


@pytest.fixture
def consumer(assessment_db, broker) -> EventConsumer:
    """Assessment's consumer on the test database, fed by hand (apply, apply_many)."""
    return EventConsumer(subscription=ASSESSMENT, sessions=session_factory(create_db_engine(assessment_db.app)),
                         bootstrap=broker.bootstrap)


def referral_event(subject: str | None = None, *, tenant: str = TENANT) -> Event:
    """A catalogued `referral.accepted`, as intake publishes it."""
    subject = subject or str(uuid.uuid4())
    now = datetime.now(UTC).isoformat()
    return Event(
        type="referral.accepted", tenant=tenant, topic="intake.events", source="/test",
        subject=subject, data={"referral_id": str(uuid.uuid4()), "subject_ref": subject, "source_type": "education",
                               "organisation": None, "received_at": now, "accepted_at": now},
    )


def publish(database, events: list[Event]) -> None:
    engine = create_db_engine(database.app)
    with unit_of_work(session_factory(engine), TENANT) as uow:
        for event in events:
            uow.publish(event)
    engine.dispose()


def read_topic(bootstrap: str, topic: str, ids: set[str], *, timeout: float = 30) -> list:
    """Every message on the topic whose ce_id is in ids, read from the beginning."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest", enable_auto_commit=False,
        session_timeout_ms=6000, heartbeat_interval_ms=2000,
    )
    found = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < len(ids):
            for messages in consumer.poll(timeout_ms=500).values():
                for message in messages:
                    if dict(message.headers).get("ce_id", b"").decode() in ids:
                        found.append(message)
        # Keep reading briefly: a duplicate would arrive after the originals.
        end = time.monotonic() + 2
        while time.monotonic() < end:
            for messages in consumer.poll(timeout_ms=300).values():
                found += [m for m in messages if dict(m.headers).get("ce_id", b"").decode() in ids]
    finally:
        consumer.close()
    return found


def by_key(messages: list) -> dict[str, list[str]]:
    """The event ids of each key, in the order a consumer reads them (a key lives on one partition)."""
    keys: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        keys[message.key.decode()].append(dict(message.headers)["ce_id"].decode())
    return dict(keys)


def drain(relay: OutboxRelay, database, sent: list[int], start: threading.Barrier, *, timeout: float = 60) -> None:
    """Runs batches until the outbox is empty (or the time is up), counting what this relay sent."""
    start.wait(timeout=10)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = relay.relay_once()
        sent.append(count)
        if count == 0:
            if not rows(database.owner, "SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT 1"):
                return
            time.sleep(0.05)  # the rest is held by the other relay's batch


def test_two_relays_share_a_backlog_and_each_key_arrives_exactly_once_in_order(assessment_db, broker):
    # More than two batches; one person's events run through the whole backlog, four others' in
    # runs that straddle batch boundaries, so both relays claim rows of the same keys at once.
    spread, runs = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(4)]
    total = 2 * BATCH + 100
    events = [referral_event(spread if i % 25 == 0 else runs[i * len(runs) // total]) for i in range(total)]
    publish(assessment_db, events)

    relays = [OutboxRelay(engine=create_db_engine(assessment_db.relay), bootstrap=broker.bootstrap)
              for _ in range(2)]
    sent: list[list[int]] = [[], []]
    start = threading.Barrier(2)  # both claim while the other's batch is in flight
    threads = [threading.Thread(target=drain, args=(relay, assessment_db, counts, start))
               for relay, counts in zip(relays, sent, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert rows(assessment_db.owner, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] == 0
    assert all(sum(counts) > 0 for counts in sent), sent  # the second relay did share the work
    messages = read_topic(broker.bootstrap, "intake.events", {e.id for e in events})
    ids = [dict(m.headers)["ce_id"].decode() for m in messages]
    assert len(ids) == total and set(ids) == {e.id for e in events}  # every event, each once
    expected: dict[str, list[str]] = defaultdict(list)
    for event in events:  # the outbox's insertion order
        expected[f"{TENANT}:{event.subject}"].append(event.id)
    assert by_key(messages) == expected
    headers = dict(messages[0].headers)
    assert headers["ce_specversion"] == b"1.0" and headers["ce_tenant"] == TENANT.encode()


def test_a_relay_sends_nothing_of_a_key_while_another_relay_holds_an_earlier_event_of_it(assessment_db, broker):
    person, other = str(uuid.uuid4()), str(uuid.uuid4())
    events = [referral_event(person), referral_event(person), referral_event(other), referral_event(person)]
    publish(assessment_db, events)
    relay = OutboxRelay(engine=create_db_engine(assessment_db.relay), bootstrap=broker.bootstrap)
    holder = sa.create_engine(assessment_db.relay)
    try:
        with holder.connect() as conn:
            # Another relay, mid-batch: it has claimed the person's first event and not yet sent it.
            conn.execute(sa.text("SELECT 1 FROM outbox WHERE id = :i FOR UPDATE"), {"i": events[0].id})
            assert relay.relay_once() == 1  # the other person's event only
            published = rows(assessment_db.owner, "SELECT id FROM outbox WHERE published_at IS NOT NULL")
            assert [str(r.id) for r in published] == [events[2].id]
            conn.rollback()  # that relay failed: its claim returns to the outbox
        assert relay.relay_once() == 3
    finally:
        holder.dispose()
    messages = read_topic(broker.bootstrap, "intake.events", {e.id for e in events})
    assert by_key(messages) == {f"{TENANT}:{person}": [events[i].id for i in (0, 1, 3)],
                                f"{TENANT}:{other}": [events[2].id]}


def test_same_event_applied_twice_has_one_effect(assessment_db, consumer):
    event = referral_event()
    assert consumer.apply(event.topic, event.headers(), event.value()) is True
    assert consumer.apply(event.topic, event.headers(), event.value()) is False
    cases = rows(assessment_db.owner, "SELECT id FROM cases WHERE subject_ref = :s", s=event.subject)
    assert len(cases) == 1
    opened = rows(assessment_db.owner, "SELECT count(*) FROM outbox WHERE type = 'case.opened' "
                  "AND data->>'subject_ref' = :s", s=event.subject)
    assert opened[0][0] == 1


def test_a_malformed_or_failing_event_is_parked_not_retried_forever(assessment_db, consumer):
    assert consumer.apply("intake.events", [("ce_type", b"referral.accepted")], b"{}") is False
    bad = Event(type="referral.accepted", tenant=TENANT, topic="intake.events", source="/test",
                subject="s", data={"referral_id": "not-a-uuid", "subject_ref": "x"})
    assert consumer.apply(bad.topic, bad.headers(), bad.value()) is False
    parked = rows(assessment_db.owner, "SELECT outcome, error FROM processed_events WHERE event_id = :i",
                  i=bad.id)
    assert [(p.outcome, p.error) for p in parked] == [("failed", "MalformedEvent")]


def test_broker_outage_delays_events_and_loses_none(assessment_db, postgres, tmp_path: Path):
    outage_broker = Broker.start_default(log_path=tmp_path / "broker.log")
    if not outage_broker.embedded:
        pytest.skip("needs a broker this test may stop: KAFKA_BOOTSTRAP_SERVERS names an external one")
    relay = OutboxRelay(engine=create_db_engine(assessment_db.relay), bootstrap=outage_broker.bootstrap)
    try:
        outage_broker.stop()
        event = referral_event()
        publish(assessment_db, [event])  # the user's transaction commits with the broker down
        with pytest.raises(Exception):  # noqa: B017 - any client error: there is no broker
            relay.relay_once()
        assert rows(assessment_db.owner, "SELECT count(*) FROM outbox WHERE id = :i AND "
                    "published_at IS NULL", i=event.id)[0][0] == 1

        outage_broker.start()
        relay = OutboxRelay(engine=create_db_engine(assessment_db.relay),
                            bootstrap=outage_broker.bootstrap)
        deadline = time.monotonic() + 30
        while relay.relay_once() == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        messages = read_topic(outage_broker.bootstrap, "intake.events", {event.id})
        assert len(messages) == 1
    finally:
        outage_broker.stop()


def test_consumer_records_the_event_id_in_the_same_transaction_as_the_effect(assessment_db, broker):
    sessions = session_factory(create_db_engine(assessment_db.app))
    consumer = EventConsumer(subscription=ASSESSMENT, sessions=sessions, bootstrap=broker.bootstrap)
    event = referral_event()

    def explode(uow, _event):
        uow.session.execute(sa.text("SELECT 1"))
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("database went away"))

    failing = EventConsumer(
        subscription=type(ASSESSMENT)(name=ASSESSMENT.name, topics=ASSESSMENT.topics,
                                      handlers={"referral.accepted": explode}),
        sessions=sessions, bootstrap=broker.bootstrap,
    )
    with pytest.raises(sa.exc.OperationalError):
        failing.apply(event.topic, event.headers(), event.value())
    # Rolled back with the effect: the retry is applied, not skipped as a duplicate.
    assert consumer.apply(event.topic, event.headers(), event.value()) is True


def test_a_batch_is_applied_in_one_go_and_one_bad_event_does_not_spoil_it(assessment_db, consumer):
    good = [referral_event() for _ in range(3)]
    nairobi = referral_event(tenant="ke-nairobi")
    bad = Event(type="referral.accepted", tenant=TENANT, topic="intake.events", source="/test",
                subject="s", data={"referral_id": "not-a-uuid", "subject_ref": "x"})
    batch = [(e.topic, e.headers(), e.value()) for e in [*good, nairobi, good[0], bad]]

    assert consumer.apply_many(batch) == 4  # three Mombasa referrals and one Nairobi; a duplicate; a bad one
    assert consumer.apply_many(batch) == 0  # redelivered whole: no second effect
    outcomes = rows(assessment_db.owner, "SELECT outcome, count(*) FROM processed_events GROUP BY outcome "
                    "ORDER BY outcome")
    assert [tuple(o) for o in outcomes] == [("applied", 4), ("failed", 1)]
    tenants = rows(assessment_db.owner, "SELECT tenant_id, count(*) FROM cases GROUP BY tenant_id ORDER BY 1")
    assert [tuple(t) for t in tenants] == [("ke-mombasa", 3), ("ke-nairobi", 1)]


def test_a_batch_over_two_tenants_with_a_repeat_is_applied_once_each_in_one_transaction(assessment_db, consumer):
    mombasa = [referral_event() for _ in range(2)]
    nairobi = referral_event(tenant="ke-nairobi")
    batch = [(e.topic, e.headers(), e.value()) for e in [mombasa[0], mombasa[0], nairobi, mombasa[1], nairobi]]

    assert consumer.apply_many(batch) == 3
    recorded = rows(assessment_db.owner, "SELECT tenant_id, count(*), count(DISTINCT processed_at) "
                    "FROM processed_events GROUP BY tenant_id ORDER BY 1")
    assert [tuple(r) for r in recorded] == [("ke-mombasa", 2, 1), ("ke-nairobi", 1, 1)]
    times = rows(assessment_db.owner, "SELECT count(DISTINCT processed_at) FROM processed_events")
    assert times[0][0] == 1  # one transaction (now() is its start): not the one-by-one fallback
    opened = rows(assessment_db.owner, "SELECT tenant_id, count(*) FROM outbox WHERE type = 'case.opened' "
                  "GROUP BY tenant_id ORDER BY 1")
    assert [tuple(o) for o in opened] == [("ke-mombasa", 2), ("ke-nairobi", 1)]


def test_the_relay_wakes_when_events_commit_rather_than_at_its_next_poll(assessment_db, broker):
    relay = OutboxRelay(engine=create_db_engine(assessment_db.relay), bootstrap=broker.bootstrap,
                        idle_seconds=60)  # a poll would come far too late for this test
    relay.start()
    try:
        time.sleep(1)  # the relay has found the outbox empty and waits
        event = referral_event()
        committed = time.monotonic()
        publish(assessment_db, [event])
        while time.monotonic() - committed < 20 and not rows(
                assessment_db.owner, "SELECT 1 FROM outbox WHERE id = :i AND published_at IS NOT NULL", i=event.id):
            time.sleep(0.05)
        assert time.monotonic() - committed < 20
        assert len(read_topic(broker.bootstrap, "intake.events", {event.id})) == 1
    finally:
        stopping = time.monotonic()
        relay.stop()
        assert time.monotonic() - stopping < 10  # stop() wakes it too: no waiting out the poll


def test_the_relay_verb_publishes_the_outbox_from_its_own_process_and_stops_on_sigterm(
    assessment_db, broker, tmp_path: Path
):
    env = {**os.environ, **assessment_db.env(), "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
           **key_files(ASSESSMENT_COMPONENT, tmp_path / "keys")}
    log = (tmp_path / "relay.log").open("wb")  # a file, not an unread pipe that could fill and block it
    relay = subprocess.Popen([sys.executable, "-m", "harambee_assessment", "relay"], env=env,
                             stdout=log, stderr=subprocess.STDOUT)
    try:
        event = replace(referral_event(), topic=ASSESSMENT_COMPONENT.topic)  # its key signs its own topic only
        publish(assessment_db, [event])
        assert len(read_topic(broker.bootstrap, ASSESSMENT_COMPONENT.topic, {event.id})) == 1
        assert rows(assessment_db.owner, "SELECT published_at IS NOT NULL AS sent FROM outbox WHERE id = :i",
                    i=event.id)[0].sent
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=15) == 0
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.wait()
        log.close()


def test_a_consumer_fetches_with_the_short_wait_while_events_come_and_the_long_one_when_idle(assessment_db, own_broker):
    """Latency while events flow, and no more fetches than before while the stack idles (kafka.py says why)."""
    relay = OutboxRelay(engine=create_db_engine(assessment_db.relay), bootstrap=own_broker.bootstrap)
    consumer = EventConsumer(subscription=ASSESSMENT, sessions=session_factory(create_db_engine(assessment_db.app)),
                             bootstrap=own_broker.bootstrap, group_id=f"test-pacing-{uuid.uuid4().hex}")
    consumer.active_seconds = 2.0

    def until(predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate() and time.monotonic() < deadline:
            time.sleep(0.05)
        return predicate()

    relay.start()
    consumer.start()
    try:
        assert until(lambda: consumer.fetch_wait_ms is not None, timeout=30)
        assert consumer.fetch_wait_ms == kafka.IDLE_FETCH_WAIT_MS  # a consumer starts idle
        event = referral_event()
        publish(assessment_db, [event])
        assert until(lambda: rows(assessment_db.owner, "SELECT 1 FROM processed_events WHERE event_id = :i",
                                  i=event.id), timeout=60)
        assert consumer.fetch_wait_ms == kafka.ACTIVE_FETCH_WAIT_MS
        # Two seconds without an event (and the poll that notices it, at most half a second later).
        assert until(lambda: consumer.fetch_wait_ms == kafka.IDLE_FETCH_WAIT_MS, timeout=10)
    finally:
        consumer.stop()
        relay.stop()


def test_an_event_reaches_a_busy_consumer_within_a_fraction_of_the_brokers_fetch_wait(assessment_db, own_broker):
    """Broker to consumer, at 20 events/s: a consumer that is receiving events fetches with the short wait.

    The embedded broker answers a waiting fetch only when a sleep inside the wait ends, so with the long
    wait alone a record sat there 94 ms on average (250 at worst) before the consumer saw it. Measured from
    the record's timestamp (the relay's send) to the consumer's transaction (processed_at), against a
    baseline in the same run: the same stream to a consumer that keeps the long wait (what every consumer
    did before), so that a loaded machine slows both alike. Up to three rounds of the pair, against a loaded
    machine's noise; with the pacing removed every round fails.
    """
    rounds = []
    for _ in range(3):
        paced = _median_wait_at_20_per_second(assessment_db, own_broker, active_wait_ms=kafka.ACTIVE_FETCH_WAIT_MS)
        unpaced = _median_wait_at_20_per_second(assessment_db, own_broker, active_wait_ms=kafka.IDLE_FETCH_WAIT_MS)
        print(f"record to consumer at 20 events/s, median: paced {paced * 1000:.0f} ms, "
              f"long wait only {unpaced * 1000:.0f} ms")
        rounds.append((paced, unpaced))
        if paced < 0.6 * unpaced:
            return
    pytest.fail(f"the paced consumer was not faster in any round: {rounds}")


def _median_wait_at_20_per_second(assessment_db, broker, *, active_wait_ms: int) -> float:
    """Seconds from a record's timestamp to the consumer's transaction, median of 40 sent 50 ms apart."""
    relay = OutboxRelay(engine=create_db_engine(assessment_db.relay), bootstrap=broker.bootstrap)
    consumer = EventConsumer(subscription=ASSESSMENT, sessions=session_factory(create_db_engine(assessment_db.app)),
                             bootstrap=broker.bootstrap, group_id=f"test-latency-{uuid.uuid4().hex}")
    consumer.active_fetch_wait_ms = active_wait_ms

    def processed(ids: list[str], timeout: float) -> dict[str, datetime]:
        deadline = time.monotonic() + timeout
        while True:
            found = {row.event_id: row.processed_at for row in rows(
                assessment_db.owner, "SELECT event_id, processed_at FROM processed_events WHERE event_id = ANY(:ids)",
                ids=ids)}
            if len(found) == len(ids) or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    relay.start()
    consumer.start()
    try:
        warm_up = referral_event()
        publish(assessment_db, [warm_up])  # the consumer joins its group and reads from the beginning
        assert processed([warm_up.id], timeout=60)

        events = []
        began = time.monotonic()
        for i in range(40):  # 2 s at 20 events/s, each in its own transaction, as requests commit them
            time.sleep(max(0.0, began + i / 20 - time.monotonic()))
            events.append(referral_event())
            publish(assessment_db, events[-1:])
        found = processed([e.id for e in events], timeout=60)
    finally:
        consumer.stop()
        relay.stop()

    sent = {dict(m.headers)["ce_id"].decode(): m.timestamp / 1000
            for m in read_topic(broker.bootstrap, "intake.events", {e.id for e in events})}
    assert set(found) == set(sent) == {e.id for e in events}
    waits = sorted(found[i].timestamp() - sent[i] for i in sent)
    return waits[len(waits) // 2]
