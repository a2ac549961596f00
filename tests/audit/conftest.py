"""The audit service under test: its own database, the session's broker, a token issuer and a signing key."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from harambee_audit.consumers import log_subscription
from harambee_audit.signing import CheckpointSigner
from harambee_common.consumer import EventConsumer
from harambee_common.db import create_db_engine
from harambee_common.migrations import upgrade
from harambee_stack.postgres import ComponentDatabase
from tests.support.services import own_consumer_groups
from tests.support.tokens import TokenIssuer


@pytest.fixture(scope="module")
def audit_database(postgres: Any) -> ComponentDatabase:
    """A fresh audit database, migrated by Alembic as the owner role."""
    database = postgres.provision("audit")
    upgrade(package="harambee_audit", url=database.owner)
    return database


@pytest.fixture(scope="session")
def signer() -> CheckpointSigner:
    """The audit service's checkpoint-signing key for the session."""
    return CheckpointSigner.generate()


@pytest.fixture(scope="session")
def signing_key_file(signer: CheckpointSigner, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The signing key as the PEM file AUDIT_SIGNING_KEY_FILE names."""
    path = tmp_path_factory.mktemp("audit-key") / "signing-key.pem"
    path.write_bytes(signer.private_pem())
    path.chmod(0o600)
    return path


@pytest.fixture
def tenant() -> str:
    """A tenant no other test writes to."""
    return f"ke-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def audit_env(
    monkeypatch: pytest.MonkeyPatch,
    audit_database: ComponentDatabase,
    broker: Any,
    issuer: TokenIssuer,
    signing_key_file: Path,
) -> dict[str, str]:
    """The environment of an audit process wired to the test database, broker and issuer (groups its own)."""
    env = {
        "KAFKA_CONSUMER_GROUP_PREFIX": own_consumer_groups("audit", bootstrap=broker.bootstrap),
        **audit_database.env(),
        **issuer.env(),
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "AUDIT_SIGNING_KEY_FILE": str(signing_key_file),
        "AUDIT_CHECKPOINT_EVERY": "1000",
        "AUDIT_CHECKPOINT_SECONDS": "3600",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def sessions(audit_database: ComponentDatabase) -> Iterator[sessionmaker[Session]]:
    """Sessions as the runtime role audit_app (row-level security applies)."""
    engine = create_db_engine(audit_database.app, pool_size=2)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def owner(audit_database: ComponentDatabase) -> Iterator[sa.Engine]:
    """An engine for the owner role, which bypasses row-level security (for inspection only)."""
    engine = sa.create_engine(audit_database.owner)
    yield engine
    engine.dispose()


@pytest.fixture
def consumer(sessions: sessionmaker[Session], signer: CheckpointSigner) -> Callable[..., EventConsumer]:
    """An audit consumer to call apply() on directly (no broker), with a chosen checkpoint interval."""

    def make(*, checkpoint_every: int = 1000) -> EventConsumer:
        subscription = log_subscription(signer=signer, checkpoint_every=checkpoint_every)
        return EventConsumer(subscription=subscription, sessions=sessions, bootstrap="127.0.0.1:1")

    return make
