"""Assessment's events as interventions receives them, built from the catalogue, and handed to its consumer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from harambee_common.catalogue.assessment import CaseOpened, TransferAccepted
from harambee_common.components import ASSESSMENT
from harambee_common.event_source import EventSource
from harambee_common.events import Event

ASSESSMENT_EVENTS = EventSource.of(ASSESSMENT)


def apply(client, event: Event) -> bool:
    """Hands an event to the app's consumer, as the broker would; returns whether it was applied now."""
    consumer = next(w for w in client.app.state.workers if hasattr(w, "apply"))
    return consumer.apply(event.topic, event.headers(), event.value())


def case_opened(tenant: str, *, case_id: uuid.UUID | None = None, subject_ref: uuid.UUID | None = None,
                opened_at: datetime | None = None) -> Event:
    """Assessment's `case.opened` in a tenant."""
    subject_ref = subject_ref or uuid.uuid4()
    data = CaseOpened(case_id=case_id or uuid.uuid4(), subject_ref=subject_ref, referral_id=uuid.uuid4(),
                      opened_at=opened_at or datetime.now(UTC))
    return ASSESSMENT_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))


def transfer_accepted(tenant: str, *, case_id: uuid.UUID, received_case_id: uuid.UUID, subject_ref: uuid.UUID,
                      sender: str, receiver: str) -> Event:
    """Assessment's `case.transfer_accepted`, raised in `tenant` (the receiver's, unless it is forged)."""
    data = TransferAccepted(
        transfer_id=uuid.uuid4(), case_id=case_id, subject_ref=subject_ref, from_tenant=sender, to=receiver,
        reason="relocation", actor=f"case_worker@{receiver}", received_case_id=received_case_id,
        opened_at=datetime.now(UTC), agreement_id=uuid.uuid4(), agreement_version=1,
    )
    return ASSESSMENT_EVENTS.event(data, tenant=tenant, subject=str(subject_ref))
