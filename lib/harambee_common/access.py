"""Access records: every read of personal or case data becomes an event before the data is returned."""

from __future__ import annotations

from collections.abc import Iterable

from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_common.events import Event


def record_access(
    uow: UnitOfWork,
    *,
    principal: TenantPrincipal,
    topic: str,
    source: str,
    subject: str,
    resource: str,
    fields: Iterable[str],
    purpose: str,
    emergency_reason: str | None = None,
) -> None:
    """Writes an `access.recorded` event to the outbox in the transaction that reads the data.

    The caller returns the data only after the unit of work commits, so no read goes unrecorded.
    A read made under an emergency ("break the glass") gives its reason; audit queues it for review.
    """
    emergency = {"emergency": True, "reason": emergency_reason} if emergency_reason is not None else {}
    uow.publish(
        Event(
            type="access.recorded",
            tenant=principal.tenant,
            topic=topic,
            source=source,
            subject=subject,
            data={
                "actor": principal.actor,
                "client_id": principal.principal.client_id,
                "organisation": principal.organisation,
                "roles": sorted(principal.roles),
                "resource": resource,
                "fields": sorted(fields),
                "purpose": purpose,
                **emergency,
            },
        )
    )
