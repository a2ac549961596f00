"""Where a component's events come from: its topic and source said once, every event built through it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue import AccessRecorded, EventData
from harambee_common.components import Component
from harambee_common.db import UnitOfWork
from harambee_common.events import Event


@dataclass(frozen=True)
class EventSource:
    """A component's events: each built from its catalogued data model, on the component's own topic."""

    topic: str
    source: str

    @classmethod
    def of(cls, component: Component) -> EventSource:
        """The events a component publishes."""
        return cls(topic=component.topic, source=component.source)

    def event(self, data: EventData, *, tenant: str, subject: str) -> Event:
        """An event carrying `data`, about `subject` (a person's pseudonymous reference where it concerns one)."""
        if data.topic not in (None, self.topic):
            raise ValueError(f"{data.type} is published on {data.topic}, not {self.topic}")
        return Event(type=data.type, tenant=tenant, topic=self.topic, source=self.source, subject=subject,
                     data=data.dump(), payload=data)

    def publish(self, uow: UnitOfWork, data: EventData, *, subject: str) -> Event:
        """Publishes an event in the unit of work's tenant, written with the change it records."""
        event = self.event(data, tenant=uow.tenant, subject=subject)
        uow.publish(event)
        return event

    def record_access(
        self,
        uow: UnitOfWork,
        *,
        principal: TenantPrincipal,
        subject: str,
        resource: str,
        fields: Iterable[str],
        purpose: str,
        emergency_reason: str | None = None,
    ) -> None:
        """Records a read of personal or case data as `access.recorded`, in the transaction that reads it.

        The event is in the outbox when the unit of work commits, and the response is sent only after the
        commit: no data leaves unrecorded. A read made under an emergency ("break the glass") gives its
        reason, and audit queues it for a compliance officer's review.
        """
        read = AccessRecorded.by(principal, resource=resource, fields=fields, purpose=purpose,
                                 emergency_reason=emergency_reason)
        self.publish(uow, read, subject=subject)
