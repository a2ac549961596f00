"""Run one service in-process against the real PostgreSQL and broker, with its relay and consumers."""

from __future__ import annotations

import base64
import importlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from harambee_common import kafka
from harambee_common.consumer import EventConsumer
from harambee_common.migrations import upgrade
from harambee_stack.postgres import ComponentDatabase

# The consumer groups each service joins (its subscriptions' names); running_service checks the list.
CONSUMER_GROUPS = {
    "intake": ("intake",),
    "assessment": ("assessment",),
    "interventions": ("interventions",),
    "audit": ("audit-log",),
    "monitoring": ("monitoring",),
}


@contextmanager
def patched_env(values: dict[str, str]) -> Iterator[None]:
    """Sets environment variables for the block, restoring the old values after."""
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def service_env(*, database: ComponentDatabase, bootstrap: str, issuer: Any) -> dict[str, str]:
    """The environment of one service process."""
    return {
        **database.env(),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        **issuer.env(),
    }


@contextmanager
def running_service(
    component: str, *, postgres: Any, broker: Any, issuer: Any
) -> Iterator[tuple[TestClient, ComponentDatabase]]:
    """A migrated database and the running app (lifespan on: relay and consumers work)."""
    database = postgres.provision(component)
    upgrade(package=f"harambee_{component}", url=database.owner)
    prefix = own_consumer_groups(component, bootstrap=broker.bootstrap)
    env = {**service_env(database=database, bootstrap=broker.bootstrap, issuer=issuer),
           "KAFKA_CONSUMER_GROUP_PREFIX": prefix}
    groups = tuple(prefix + name for name in CONSUMER_GROUPS.get(component, ()))
    with tempfile.TemporaryDirectory() as keys, patched_env({**env, **component_keys(component, Path(keys))}):
        app = importlib.import_module(f"harambee_{component}.app").create_app()
        with TestClient(app) as client:
            joined = {getattr(w, "_group_id", None) for w in app.state.workers if isinstance(w, EventConsumer)}
            assert joined <= set(groups), f"add {joined} (less {prefix}) to CONSUMER_GROUPS"
            yield client, database


def own_consumer_groups(component: str, *, bootstrap: str) -> str:
    """A fresh KAFKA_CONSUMER_GROUP_PREFIX for one running copy of a component, its groups at the topics' ends.

    Groups of its own: a copy of the service started earlier in the session (another module's) may
    still count as a member of the plain group, and the broker would keep rebalancing between them.
    The session's broker holds what earlier modules' services published, in tenants this module may
    use too: the copy reads only what is published while it runs, whatever ran before.
    """
    prefix = f"test-{uuid.uuid4().hex[:8]}-"
    start_at_the_end(bootstrap, tuple(prefix + name for name in CONSUMER_GROUPS.get(component, ())))
    return prefix


def write_key(path: Path, key: bytes | None = None) -> Path:
    """A random 32-byte key (or the one given) in a file, base64, owner-only: as the stack writes them."""
    path.write_text(base64.b64encode(key or os.urandom(32)).decode() + "\n")
    path.chmod(0o600)
    return path


def component_keys(component: str, directory: Path) -> dict[str, str]:
    """The key files a component refuses to start without (intake's vault keys, audit's checkpoint key)."""
    if component == "intake":
        return {"INTAKE_KEY_ENCRYPTION_KEY_FILE": str(write_key(directory / "intake-kek")),
                "INTAKE_BLIND_INDEX_KEY_FILE": str(write_key(directory / "intake-blind-index-key"))}
    if component != "audit":
        return {}
    from harambee_audit.signing import CheckpointSigner  # only the audit service's tests need it

    path = directory / "audit-signing-key.pem"
    path.write_bytes(CheckpointSigner.generate().private_pem())
    path.chmod(0o600)
    return {"AUDIT_SIGNING_KEY_FILE": str(path)}


def start_at_the_end(bootstrap: str, groups: tuple[str, ...]) -> None:
    """Commits each consumer group's offsets at the current end of every topic."""
    if not groups:
        return
    kafka.ensure_topics(bootstrap)
    reader = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for topic in kafka.TOPICS
                      for p in sorted(reader.partitions_for_topic(topic) or ())]
        ends = reader.end_offsets(partitions)
    finally:
        reader.close()
    for group in groups:
        committer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        try:
            committer.assign(partitions)
            committer.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
        finally:
            committer.close()


def rows(url: str, query: str, *, tenant: str | None = None, **params: Any) -> list[sa.Row]:
    """Runs a query as the role in url, optionally with a tenant set, and returns the rows."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if tenant is not None:
                conn.execute(sa.select(sa.func.set_config("app.tenant_id", tenant, True)))
            return list(conn.execute(sa.text(query), params))
    finally:
        engine.dispose()
