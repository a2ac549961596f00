"""The unit of work against the real PostgreSQL: events reach the outbox with the change or not at all."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from harambee_common.db import create_db_engine, in_tenant, pipelined, session_factory, unit_of_work
from harambee_common.events import Event
from harambee_common.migrations import upgrade
from tests.support.services import rows

TENANT, OTHER = "ke-mombasa", "ke-nairobi"


@pytest.fixture
def database(postgres):
    database = postgres.provision("assessment")
    upgrade(package="harambee_assessment", url=database.owner)
    return database


@pytest.fixture
def sessions(database):
    engine = create_db_engine(database.app)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def outbox(database):
    """The outbox as the relay sees it (every tenant), in the order it publishes."""
    def read() -> list[tuple[str, str]]:
        return [(r.tenant_id, r.type) for r in rows(database.relay, "SELECT tenant_id, type FROM outbox ORDER BY seq")]
    return read


def event(type_: str, tenant: str = TENANT) -> Event:
    return Event(type=type_, tenant=tenant, topic="assessment.events", source="/test",
                 subject=str(uuid.uuid4()), data={})


def test_events_are_written_in_publishing_order_when_the_unit_of_work_commits(sessions, outbox):
    with unit_of_work(sessions, TENANT) as uow:
        for n in range(3):
            uow.publish(event(f"test.{n}"))
        with in_tenant(uow, OTHER) as other:  # the other tenant's event is written under its own tenant
            other.publish(event("test.other", OTHER))
        uow.publish(event("test.3"))
        assert outbox() == []  # nothing is written before the commit

    assert outbox() == [(TENANT, "test.0"), (TENANT, "test.1"), (TENANT, "test.2"),
                        (OTHER, "test.other"), (TENANT, "test.3")]


def test_a_failed_unit_of_work_writes_no_events(sessions, outbox):
    with pytest.raises(RuntimeError), unit_of_work(sessions, TENANT) as uow:
        uow.publish(event("test.lost"))
        raise RuntimeError("the change failed")
    assert outbox() == []


def test_a_failing_pipelined_write_fails_the_unit_of_work_as_a_database_error(sessions, outbox):
    first = event("test.first")
    with pytest.raises(sa.exc.IntegrityError), unit_of_work(sessions, TENANT) as uow:
        uow.publish(first)
        uow.write_events()
        with pipelined(uow):
            uow.publish(event("test.second"))
            uow.publish(first)  # the same event id twice: the outbox's key refuses it
            uow.write_events()
    assert outbox() == []
