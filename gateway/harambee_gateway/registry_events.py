"""The registry's events on `registry.events`: references and terms only, never secrets or people's names.

Which tenant an event belongs to decides its Kafka key, and so the order consumers see:
tenants' own events and grants carry the affected tenant; clients, organisations and people,
which span tenants, carry `platform`; an agreement always carries the tenant that discloses the
data (its owning tenant), so every version of one agreement stays in order.
"""

from __future__ import annotations

from typing import Any

from harambee_common.events import Event

TOPIC = "registry.events"
SOURCE = "/gateway/registry"
PLATFORM = "platform"


def registry_event(*, type: str, tenant: str, subject: str, actor: str, data: dict[str, Any]) -> Event:
    """A registry event; data must hold references and terms only."""
    return Event(
        type=type,
        tenant=tenant,
        topic=TOPIC,
        source=SOURCE,
        subject=subject,
        data={**data, "actor": actor},
    )
