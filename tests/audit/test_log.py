"""The log itself: every event becomes one entry, once; the database refuses changes and other tenants."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from harambee_audit.app import create_app
from harambee_audit.merkle import Frontier, leaf_hash
from harambee_common import kafka
from harambee_common.consumer import EventConsumer
from harambee_common.db import unit_of_work
from harambee_common.events import Event
from tests.audit.helpers import deliver, make_event, wait_until


def entries_of(owner: sa.Engine, tenant: str) -> list[sa.Row]:
    """Every entry of a tenant, read as the owner (no row-level security)."""
    with owner.connect() as conn:
        return list(
            conn.execute(
                sa.text("SELECT seq, event_id, type, canonical, leaf_hash FROM entries "
                        "WHERE tenant_id = :t ORDER BY seq"),
                {"t": tenant},
            )
        )


def test_an_applied_event_becomes_one_entry_with_its_hash(
    consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    agreement = str(uuid.uuid4())
    event = make_event(tenant, type="agreement.applied", actor="user-7", client_id="cso-portal", agreement_id=agreement)

    assert deliver(consumer(), event) is True

    [entry] = entries_of(owner, tenant)
    assert (entry.seq, entry.event_id, entry.type) == (0, event.id, "agreement.applied")
    document = json.loads(entry.canonical)
    assert document["data"] == event.data
    assert document["actor"] == "user-7"
    assert (document["client_id"], document["agreement"]) == ("cso-portal", agreement)
    assert document["prev"] is None
    assert entry.leaf_hash == leaf_hash(entry.canonical)


def test_the_same_event_applied_twice_is_recorded_once(
    consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    event = make_event(tenant)
    audit = consumer()

    assert deliver(audit, event) is True
    assert deliver(audit, event) is False

    assert [e.event_id for e in entries_of(owner, tenant)] == [event.id]


def test_each_entry_commits_to_the_one_before_with_no_gaps(
    consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    audit = consumer()
    for _ in range(5):
        deliver(audit, make_event(tenant))

    entries = entries_of(owner, tenant)
    assert [e.seq for e in entries] == [0, 1, 2, 3, 4]
    for previous, entry in itertools.pairwise(entries):
        assert json.loads(entry.canonical)["prev"] == previous.leaf_hash.hex()


def test_concurrent_consumers_append_without_gaps_or_duplicates(
    consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    events = [make_event(tenant) for _ in range(40)]
    consumers = [consumer(), consumer(), consumer(), consumer()]
    with ThreadPoolExecutor(max_workers=4) as pool:
        # Every event goes to two consumers at once: a redelivery racing the first delivery.
        list(pool.map(lambda i: deliver(consumers[i % 4], events[i // 2]), range(80)))

    entries = entries_of(owner, tenant)
    assert [e.seq for e in entries] == list(range(40))
    assert sorted(e.event_id for e in entries) == sorted(e.id for e in events)


def test_an_event_produced_to_a_topic_is_recorded_once_even_when_redelivered(
    audit_env: dict[str, str], owner: sa.Engine, tenant: str
) -> None:
    event = make_event(tenant, type="case.opened", subject="case-1")
    marker = make_event(tenant, type="access.recorded", subject="case-1")  # same key, same partition, later
    kafka.ensure_topics(audit_env["KAFKA_BOOTSTRAP_SERVERS"])
    producer = kafka.producer(audit_env["KAFKA_BOOTSTRAP_SERVERS"])
    try:
        with TestClient(create_app()):
            producer.send(event.topic, key=event.key.encode(), value=event.value(), headers=event.headers())
            producer.flush(timeout=10)
            wait_until(lambda: entries_of(owner, tenant))
            # The broker delivers the same event again (a producer retry or a replayed partition).
            for message in (event, marker):
                producer.send(
                    message.topic, key=message.key.encode(), value=message.value(), headers=message.headers()
                )
            producer.flush(timeout=10)
            wait_until(lambda: any(e.event_id == marker.id for e in entries_of(owner, tenant)))
    finally:
        producer.close(timeout=5)

    assert [e.event_id for e in entries_of(owner, tenant)] == [event.id, marker.id]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET type = 'case.closed' WHERE tenant_id = :t",
        "DELETE FROM entries WHERE tenant_id = :t",
        "UPDATE checkpoints SET note = '' WHERE tenant_id = :t",
        "DELETE FROM merkle_nodes WHERE tenant_id = :t",
        "DELETE FROM log_heads WHERE tenant_id = :t",
    ],
)
def test_the_app_role_cannot_change_or_remove_the_log(
    consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session], tenant: str, statement: str
) -> None:
    deliver(consumer(), make_event(tenant))

    with pytest.raises(DBAPIError, match="permission denied"), unit_of_work(sessions, tenant) as uow:
        uow.session.execute(sa.text(statement), {"t": tenant})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET type = 'case.closed' WHERE tenant_id = :t",
        "DELETE FROM entries WHERE tenant_id = :t",
        "DELETE FROM merkle_nodes WHERE tenant_id = :t",
        "TRUNCATE entries",
        "UPDATE log_heads SET size = 0 WHERE tenant_id = :t",
    ],
)
def test_a_trigger_refuses_changes_even_to_a_role_with_the_privilege(
    consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str, statement: str
) -> None:
    for _ in range(2):
        deliver(consumer(), make_event(tenant))

    with pytest.raises(DBAPIError, match=r"append-only|only moves forward"), owner.begin() as conn:
        conn.execute(sa.text(statement), {"t": tenant})
    assert len(entries_of(owner, tenant)) == 2


def test_the_app_role_sees_no_entries_without_its_tenant_or_under_another(
    consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session], tenant: str
) -> None:
    deliver(consumer(), make_event(tenant))
    count = sa.text("SELECT count(*) FROM entries")

    with sessions() as session, session.begin():
        assert session.scalar(count) == 0
    with unit_of_work(sessions, f"other-{uuid.uuid4().hex[:6]}") as uow:
        assert uow.session.scalar(count) == 0
        assert uow.session.scalar(sa.text("SELECT count(*) FROM log_heads")) == 0
    with unit_of_work(sessions, tenant) as uow:
        assert uow.session.scalar(count) == 1


def test_the_app_role_cannot_write_an_entry_into_another_tenant(
    sessions: sessionmaker[Session], tenant: str
) -> None:
    insert = sa.text(
        "INSERT INTO entries (tenant_id, seq, event_id, type, source, subject, time, recorded_at, data, "
        "canonical, leaf_hash) VALUES ('someone-else', 0, 'e', 't', 's', 'x', now(), now(), '{}', '', "
        "sha256(''))"
    )
    with pytest.raises(DBAPIError, match="row-level security"), unit_of_work(sessions, tenant) as uow:
        uow.session.execute(insert)


def test_python_m_harambee_audit_migrate_builds_the_schema(postgres: Any) -> None:
    database = postgres.provision("audit")
    env = {**os.environ, **database.env(), **database.migration_env()}

    result = subprocess.run(
        [sys.executable, "-m", "harambee_audit", "migrate"], env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    engine = sa.create_engine(database.owner)
    try:
        with engine.connect() as conn:
            tables = set(conn.scalars(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
    finally:
        engine.dispose()
    assert {"entries", "log_heads", "merkle_nodes", "checkpoints", "outbox", "processed_events"} <= tables


def test_a_batch_spanning_tenants_with_a_redelivery_inside_appends_each_event_once_in_order(
    consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    other = f"{tenant}-b"
    first, second, third = make_event(tenant), make_event(other), make_event(tenant)
    batch = [(e.topic, e.headers(), e.value()) for e in (first, second, first, third)]

    assert consumer().apply_many(batch) == 3

    assert [(e.seq, e.event_id) for e in entries_of(owner, tenant)] == [(0, first.id), (1, third.id)]
    assert [(e.seq, e.event_id) for e in entries_of(owner, other)] == [(0, second.id)]


def sound_log(owner: sa.Engine, tenant: str) -> tuple[list[dict[str, Any]], list[int]]:
    """Rebuilds a tenant's tree from its stored entries and checks everything stored against it:
    the chain, the leaf hashes, the Merkle subtrees, the head and every checkpoint's root.
    Returns the entries' documents in log order and the checkpoints' sizes."""
    frontier, nodes, roots, documents = Frontier(), {}, {}, []
    with owner.connect() as conn:
        entries = conn.execute(
            sa.text("SELECT seq, canonical, leaf_hash FROM entries WHERE tenant_id = :t ORDER BY seq"),
            {"t": tenant},
        ).all()
        stored_nodes = conn.execute(
            sa.text("SELECT level, idx, hash FROM merkle_nodes WHERE tenant_id = :t"), {"t": tenant}
        ).all()
        head = conn.execute(
            sa.text("SELECT size, frontier, last_leaf FROM log_heads WHERE tenant_id = :t"), {"t": tenant}
        ).one()
        checkpoints = conn.execute(
            sa.text("SELECT tree_size, root_hash FROM checkpoints WHERE tenant_id = :t ORDER BY tree_size"),
            {"t": tenant},
        ).all()
    previous = None
    for seq, canonical, leaf in entries:
        document = json.loads(canonical)
        assert (document["seq"], document["prev"]) == (seq, previous.hex() if previous else None)
        assert leaf == leaf_hash(canonical)
        nodes.update({(level, index): h for level, index, h in frontier.append(leaf)})
        roots[frontier.size] = frontier.root()
        documents.append(document)
        previous = leaf
    assert [e.seq for e in entries] == list(range(len(entries)))
    assert {(n.level, n.idx): n.hash for n in stored_nodes} == nodes
    assert (head.size, head.frontier, head.last_leaf) == (frontier.size, frontier.to_bytes(), previous)
    assert checkpoints and all(roots[c.tree_size] == c.root_hash for c in checkpoints)
    return documents, [c.tree_size for c in checkpoints]


def test_a_batch_spanning_tenants_builds_the_logs_one_event_at_a_time_would(
    consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    # Runs of different lengths per tenant, a redelivery and an emergency read inside the batch, and a
    # checkpoint due (every 4 entries) several times in the middle of it.
    pattern = [0, 0, 1, 2, 2, 2, 0, 1, 1, 1, 1, 1, 0, 2, 0, 0, 0, 1, 2, 2, 0, 1]
    subjects = [f"subj-{uuid.uuid4().hex[:8]}" for _ in pattern]

    def events(tenants: list[str]) -> list[Event]:
        made = [
            make_event(tenants[t], subject=s)  # the data follows from the subject: the same in both runs
            for t, s in zip(pattern, subjects, strict=True)
        ]
        made[9] = make_event(tenants[1], type="access.recorded", subject=subjects[9], actor="worker-1",
                             emergency=True, reason="Threat to life")
        return made

    alone, together = [[f"{tenant}-{name}-{k}" for k in range(3)] for name in ("alone", "batch")]
    audit = consumer(checkpoint_every=4)
    for event in events(alone):
        assert deliver(audit, event) is True
    batch = events(together)
    messages = [(e.topic, e.headers(), e.value()) for e in batch]
    assert audit.apply_many([*messages[:8], messages[3], *messages[8:]]) == len(batch)

    for one, other in zip(alone, together, strict=True):
        (as_alone, sizes_alone), (as_batch, sizes_batch) = sound_log(owner, one), sound_log(owner, other)
        assert [(d["seq"], d["type"], d["subject"], d["data"]) for d in as_alone] == [
            (d["seq"], d["type"], d["subject"], d["data"]) for d in as_batch
        ]
        assert [d["event_id"] for d in as_batch] == [e.id for e in batch if e.tenant == other]
        assert sizes_alone == sizes_batch
    with owner.connect() as conn:
        # One transaction (processed_at is its start): not a failed batch applied again one by one.
        assert conn.scalar(
            sa.text("SELECT count(DISTINCT processed_at) FROM processed_events WHERE event_id = ANY(:ids)"),
            {"ids": [e.id for e in batch]},
        ) == 1
        queued = conn.execute(
            sa.text("SELECT q.event_id, e.event_id FROM emergency_accesses q JOIN entries e "
                    "USING (tenant_id, seq) WHERE tenant_id = :t"),
            {"t": together[1]},
        ).all()
    assert queued == [(batch[9].id, batch[9].id)]
