"""The registry's events on `registry.events` (catalogued in harambee_common.catalogue.registry).

The registry is not one tenant's: each event is published in the log of the tenant it concerns (a
tenant's own changes and grants in that tenant's, an agreement's in its disclosing tenant's;
clients, organisations and people, which span tenants, in `platform`'s). That tenant decides the
event's Kafka key, and so the order consumers see.
"""

from __future__ import annotations

from harambee_common.catalogue import EventData
from harambee_common.components import GATEWAY
from harambee_common.db import UnitOfWork
from harambee_common.event_source import EventSource

# Where the gateway's events come from: its topic and source, said once (harambee_common.components).
EVENTS = EventSource.of(GATEWAY)
# The tenant where platform administrators act, and whose log holds what spans tenants.
PLATFORM = "platform"


def publish(uow: UnitOfWork, data: EventData, *, tenant: str, subject: str) -> None:
    """Publishes an event in the log of the tenant it concerns, written when the unit of work commits."""
    uow.publish(EVENTS.event(data, tenant=tenant, subject=subject))
