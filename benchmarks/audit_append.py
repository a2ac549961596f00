"""Append throughput of the audit consumer: entries/s committed, and statements sent per entry.

    python benchmarks/audit_append.py [--events 20000] [--direct 3000]

(a) in this process, no broker: `EventConsumer.apply` (one transaction per event: set the tenant,
record the event id, lock the tenant's head, one statement for the entry, its closed tree nodes and
the head, commit) and `apply_many` over 200 events (as the consumer applies a poll: per tenant, the
tenant set, the batch's event ids recorded in one statement and the head locked once; the entries,
nodes and head written in one statement at commit);
(b) the real path: events produced to the topics first, then `python -m harambee_audit serve` drains
them; the rate is measured between its first and last committed entry. Loopback only.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_synthetic import access_event

from harambee_audit.consumers import TOPICS, log_subscription
from harambee_audit.signing import CheckpointSigner
from harambee_common import kafka
from harambee_common.components import AUDIT
from harambee_common.consumer import EventConsumer
from harambee_common.db import create_db_engine
from harambee_common.migrations import ALL_TENANTS_SETTING, upgrade
from harambee_stack.broker import Broker
from harambee_stack.ports import free_port
from harambee_stack.postgres import Postgres
from tests.support.event_keys import install_session_keys, key_files
from tests.support.tokens import TokenIssuer

ROOT = Path(__file__).resolve().parents[1]
BATCH = 200  # kafka.consumer's max_poll_records


def count(owner: sa.Engine, tenant: str) -> int:
    with owner.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM entries WHERE tenant_id = :t"), {"t": tenant})


def direct(app_url: str, owner: sa.Engine, signer: CheckpointSigner, events: int) -> None:
    engine = create_db_engine(app_url, pool_size=2)
    statements = [0]

    def counted(*_: object) -> None:
        statements[0] += 1

    # Statements only; each transaction's BEGIN and COMMIT are a further round trip or two.
    sa.event.listen(engine, "before_cursor_execute", counted)
    consumer = EventConsumer(
        subscription=log_subscription(signer=signer, checkpoint_every=1000),
        sessions=sessionmaker(engine, expire_on_commit=False),
        bootstrap="127.0.0.1:1",
    )
    tenant = f"ke-direct-{uuid.uuid4().hex[:6]}"
    messages = [(e.topic, e.headers(), e.value()) for e in (access_event(i, tenant) for i in range(2 * events))]
    started = time.perf_counter()
    for message in messages[:events]:
        consumer.apply(*message)
    alone = time.perf_counter() - started
    alone_statements, statements[0] = statements[0], 0
    started = time.perf_counter()
    for i in range(events, 2 * events, BATCH):
        consumer.apply_many(messages[i : i + BATCH])
    batched = time.perf_counter() - started
    engine.dispose()
    assert count(owner, tenant) == 2 * events
    print(f"(a) in process, one transaction per event: {events / alone:,.0f} entries/s "
          f"({alone_statements / events:.2f} statements per entry); one per {BATCH} (as the consumer applies "
          f"a poll): {events / batched:,.0f} entries/s ({statements[0] / events:.2f} statements per entry)")


def through_broker(database_env: dict[str, str], owner: sa.Engine, broker: Broker, key_file: Path,
                   events: int, state: Path) -> None:
    tenant = f"ke-broker-{uuid.uuid4().hex[:6]}"
    kafka.ensure_topics(broker.bootstrap)
    producer = kafka.producer(broker.bootstrap)
    sent = []
    for i in range(events):
        # Fresh ids: the synthetic ids repeat those of (a), which the consumer rightly skips as redeliveries.
        # On each producer's topic, signed with that producer's key (access.recorded is every service's).
        topic = TOPICS[i % len(TOPICS)]
        event = dataclasses.replace(access_event(i, tenant), id=str(uuid.uuid4()), topic=topic)
        sent.append(producer.send(topic, key=event.key.encode(), value=event.value(), headers=event.headers()))
    producer.flush(timeout=60)
    failed = sum(1 for future in sent if not future.succeeded())
    producer.close()
    if failed:
        print(f"    the broker refused {failed:,} of {events:,} sends; {events - failed:,} are expected")
        events -= failed
    with TokenIssuer() as issuer:
        env = {**os.environ, **database_env, **issuer.env(), "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
               "AUDIT_SIGNING_KEY_FILE": str(key_file), "PORT": str(free_port()), "LOG_LEVEL": "INFO",
               **key_files(AUDIT, state / "event-keys")}
        server = subprocess.Popen([sys.executable, "-m", "harambee_audit", "serve"], env=env,
                                  stdout=(state / "audit.log").open("wb"), stderr=subprocess.STDOUT)
        try:
            first = last = None
            n = first_n = seen = 0
            progress_at = time.monotonic()
            while time.monotonic() - progress_at < 60:  # stop when nothing arrives for a minute
                n = count(owner, tenant)
                now = time.perf_counter()
                if n > seen:
                    seen, progress_at, last = n, time.monotonic(), now
                if n and first is None:
                    first, first_n = now, n
                if n >= events:
                    break
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if first is None or last is None or last == first:
        raise SystemExit("the consumer recorded nothing")
    rate = (n - first_n) / (last - first)
    drained = "all drained" if n >= events else f"ONLY {n:,} ARRIVED (stalled for 60 s)"
    print(f"(b) consumer through the broker: {events:,} events produced, {drained}; sustained {rate:,.0f} entries/s")


def main() -> None:
    # A SIGTERM still runs the cleanup below (stop the server, drop the database, stop PostgreSQL).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events through the broker")
    parser.add_argument("--direct", type=int, default=3_000, help="events applied in process")
    args = parser.parse_args()
    install_session_keys()  # this process signs as each producer would; the audit process verifies
    state = Path(tempfile.mkdtemp(prefix="audit-append-bench-"))
    data_dir = ROOT / ".run" / f"bench-audit-{uuid.uuid4().hex[:8]}"
    postgres = Postgres.start(data_dir=data_dir)
    broker = Broker.start_default(log_path=state / "broker.log")
    name = f"bench_audit_{uuid.uuid4().hex[:8]}"
    try:
        database = postgres.provision("audit", database=name)
        upgrade(package="harambee_audit", url=database.owner)
        signer = CheckpointSigner.generate()
        key_file = state / "signing-key.pem"
        key_file.write_bytes(signer.private_pem())
        # Row-level security binds the owner too: counting across tenants is an explicit opt-in.
        owner = sa.create_engine(database.owner, connect_args={"options": f"-c {ALL_TENANTS_SETTING}=on"})
        direct(database.app, owner, signer, args.direct)
        through_broker(database.env(), owner, broker, key_file, args.events, state)
        owner.dispose()
    finally:
        postgres.drop(name)
        postgres.stop()
        broker.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        print(f"    the service's log: {state / 'audit.log'}")


if __name__ == "__main__":
    main()
