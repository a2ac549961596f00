"""Session-wide infrastructure for the tests: a real PostgreSQL and a real Kafka-protocol broker.

Both are the embedded ones unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS name other servers, so a
fresh machine with only Python runs the whole suite.
"""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from harambee_common.migrations import ALL_TENANTS_SETTING
from harambee_stack.broker import Broker
from harambee_stack.postgres import ComponentDatabase, Postgres
from tests.support.event_keys import install_session_keys
from tests.support.tokens import TokenIssuer

ROOT = Path(__file__).resolve().parents[1]
RUN_DIR = ROOT / ".run" / "test"


def pytest_configure(config: pytest.Config) -> None:
    """Every component's event signing key, once for the session (see tests/support/event_keys.py)."""
    install_session_keys()


class TestPostgres:
    """The session's PostgreSQL; each provision() gives a fresh database of one component."""

    def __init__(self, server: Postgres) -> None:
        self.server = server
        self.admin_url = server.admin_url
        self._databases: list[str] = []

    def provision(self, component: str) -> ComponentDatabase:
        """A new, empty database for the component, with its three roles.

        The tests read and arrange every tenant's rows as the owner, so its URL opts in to crossing tenants
        (row-level security binds the owner too; see harambee_common.migrations).
        """
        database = f"test_{component}_{uuid.uuid4().hex[:8]}"
        self._databases.append(database)
        urls = self.server.provision(component, database=database)
        across = make_url(urls.owner).update_query_dict({"options": f"-c {ALL_TENANTS_SETTING}=on"})
        return dataclasses.replace(urls, owner=across.render_as_string(hide_password=False))

    def drop_all(self) -> None:
        """Drops every database this session created."""
        for database in self._databases:
            self.server.drop(database)


@pytest.fixture(scope="session")
def postgres() -> Iterator[TestPostgres]:
    """A real PostgreSQL server for the session."""
    server = Postgres.start(data_dir=RUN_DIR / f"pg-{uuid.uuid4().hex[:8]}")
    pg = TestPostgres(server)
    yield pg
    pg.drop_all()
    server.stop()
    if server.data_dir is not None:
        # A fresh data directory per session: without this each run leaves tens of megabytes behind.
        shutil.rmtree(server.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    """A real Kafka-protocol broker for the session."""
    broker = Broker.start_default(log_path=RUN_DIR / "broker.log")
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def issuer() -> Iterator[TokenIssuer]:
    """A stand-in for the gateway's token issuer, for testing one service alone."""
    with TokenIssuer() as token_issuer:
        yield token_issuer
