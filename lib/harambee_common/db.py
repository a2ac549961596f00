"""Database engines and the unit of work: one transaction per request, scoped to one tenant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import psycopg
import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from harambee_common.events import OUTBOX_INSERT, Event, outbox_row
from harambee_common.problems import Problem


def create_db_engine(url: str, *, pool_size: int = 20) -> sa.Engine:
    """An engine for a service role.

    No pre-ping: it costs a round trip on every request. After a database restart the first use of
    each stale connection fails, is answered 503 (see problems.py), and the pool is renewed.
    """
    return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (responses are built after it)."""
    return sessionmaker(engine, expire_on_commit=False)


_SET_TENANT = sa.text("SELECT set_config('app.tenant_id', :tenant, true)")


def set_tenant(session: Session, tenant: str) -> None:
    """Scopes the current transaction to one tenant; row-level security does the rest."""
    session.execute(_SET_TENANT, {"tenant": tenant})


class UnitOfWork:
    """A tenant-scoped session plus the events the change raises; commits both or neither."""

    def __init__(self, session: Session, tenant: str) -> None:
        self.session = session
        self.tenant = tenant
        self._events: list[Event] = []

    def publish(self, event: Event) -> None:
        """Records an event for the outbox, written in the same transaction as the change."""
        if event.tenant != self.tenant:
            raise ValueError("an event must belong to the unit of work's tenant")
        self._events.append(event)

    def write_events(self) -> None:
        """Writes the events published so far to the outbox, in publishing order.

        Called before the commit and before the transaction's tenant changes (the outbox is
        tenant-scoped): a request's events then cost one statement, not one each.
        """
        if self._events:
            rows = [outbox_row(event) for event in self._events]
            self.session.execute(OUTBOX_INSERT, rows if len(rows) > 1 else rows[0])
            self._events.clear()


@contextmanager
def pipelined(uow: UnitOfWork) -> Iterator[None]:
    """Sends the statements inside without waiting for each one's result (psycopg's pipeline mode).

    Only for writes whose results nothing inside reads: they cost one round trip together, and an
    error in any of them is raised when the block ends (as SQLAlchemy's exception, so an outage is
    still a 503), failing the unit of work.
    """
    driver = uow.session.connection().connection.driver_connection
    try:
        with driver.pipeline():
            yield
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(None, None, exc, psycopg.Error) from exc


@contextmanager
def unit_of_work(factory: sessionmaker[Session], tenant: str) -> Iterator[UnitOfWork]:
    """Opens a tenant-scoped transaction; commits on success and rolls back on error."""
    with factory() as session, session.begin():
        set_tenant(session, tenant)
        uow = UnitOfWork(session, tenant)
        yield uow
        uow.write_events()


@contextmanager
def in_tenant(uow: UnitOfWork, tenant: str) -> Iterator[UnitOfWork]:
    """The same transaction, scoped for one step to another tenant (a flow between two tenants).

    Row-level security then checks that step's rows against the other tenant, and its events belong
    to that tenant's log. Pending changes and events are written on the way in and out, so that each is checked
    against the tenant it was made in. On an error the transaction is rolled back anyway.
    """
    uow.write_events()
    uow.session.flush()
    set_tenant(uow.session, tenant)
    step = UnitOfWork(uow.session, tenant)
    yield step
    step.write_events()
    uow.session.flush()
    set_tenant(uow.session, uow.tenant)


def _request_unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    tenant = request.path_params.get("tenant")
    if not tenant:
        raise RuntimeError("a tenant-scoped unit of work needs a {tenant} path parameter")
    try:
        with unit_of_work(request.app.state.sessions, tenant) as uow:
            yield uow
    except Problem as problem:
        if problem.events:  # the change is rolled back; the record of the refusal is not
            with unit_of_work(request.app.state.sessions, tenant) as audit:
                for event in problem.events:
                    audit.publish(event)
        raise


# scope="function": the commit happens before the response is sent, so a failed commit is an error
# the client sees, never a 201 for data that was not stored.
UnitOfWorkDep = Annotated[UnitOfWork, Depends(_request_unit_of_work, scope="function")]
