"""Events as assessment receives them, built from the catalogue, and handed to its consumer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from harambee_common.catalogue.intake import ReferralAccepted
from harambee_common.components import INTAKE
from harambee_common.event_source import EventSource
from harambee_common.events import Event

INTAKE_EVENTS = EventSource.of(INTAKE)


def consumer(client):
    """The running app's event consumer."""
    return next(w for w in client.app.state.workers if hasattr(w, "apply"))


def deliver(client, event: Event) -> bool:
    """Hands an event to the app's consumer, as the broker would; returns whether it was applied now."""
    return consumer(client).apply(event.topic, event.headers(), event.value())


def referral_accepted(tenant: str) -> Event:
    """Intake's `referral.accepted` for a new person in a tenant."""
    subject_ref, accepted_at = uuid.uuid4(), datetime.now(UTC)
    data = ReferralAccepted(referral_id=uuid.uuid4(), subject_ref=subject_ref, source_type="education",
                            organisation=None, received_at=accepted_at - timedelta(days=1), accepted_at=accepted_at)
    return INTAKE_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))
