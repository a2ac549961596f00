"""The registry's unit of work: one transaction per request, its events written with the change.

Unlike a service's, the registry's transaction is not one tenant's: its tables have no row-level
security, only the outbox has, and one change may concern several tenants (a client's grants, an
agreement between two). So events of any tenant may be published, and at commit each is written
with the transaction scoped to its own tenant, in publishing order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import groupby
from operator import attrgetter
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from harambee_common.db import UnitOfWork, set_tenant
from harambee_common.events import OUTBOX_INSERT, Event, outbox_row
from harambee_common.problems import Conflict
from harambee_gateway.events import PLATFORM


class RegistryUnitOfWork(UnitOfWork):
    """A registry transaction plus the events it raises, of whichever tenants they concern."""

    def __init__(self, session: Session) -> None:
        # `platform` is where an event published without a tenant of its own belongs.
        super().__init__(session, PLATFORM)
        self._pending: list[Event] = []

    def publish(self, event: Event) -> None:
        """Records an event for the outbox, written in the same transaction as the change."""
        self._pending.append(event)

    def write_events(self) -> None:
        """Writes the events published so far, each run of one tenant's with the transaction scoped to it."""
        for tenant, run in groupby(self._pending, key=attrgetter("tenant")):
            set_tenant(self.session, tenant)
            rows = [outbox_row(event) for event in run]
            self.session.execute(OUTBOX_INSERT, rows if len(rows) > 1 else rows[0])
        self._pending.clear()


@contextmanager
def registry_unit_of_work(factory: sessionmaker[Session]) -> Iterator[RegistryUnitOfWork]:
    """Opens a registry transaction; commits it with its events on success, rolls back on error.

    The session connects at its first statement, so nothing holds a connection before it is needed
    (a provider's discovery document is fetched before any query).
    """
    with factory() as session, session.begin():
        uow = RegistryUnitOfWork(session)
        yield uow
        uow.write_events()


def _request_unit_of_work(request: Request) -> Iterator[RegistryUnitOfWork]:
    """One unit of work per request: committed after the endpoint, rolled back on any error."""
    try:
        with registry_unit_of_work(request.app.state.sessions) as uow:
            yield uow
    except IntegrityError as exc:
        # Checked first in the service; this catches two requests racing for the same name.
        raise Conflict("The change conflicts with a record that exists already.") from exc


# scope="function": the commit happens before the response, so a failed commit is not a 2xx.
RegistryUnitOfWorkDep = Annotated[UnitOfWork, Depends(_request_unit_of_work, scope="function")]
