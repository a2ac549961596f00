"""What assessment does with other services' events."""

from __future__ import annotations

import uuid

from harambee_assessment import service
from harambee_common.agreements import AGREEMENT_HANDLERS
from harambee_common.consumer import Subscription
from harambee_common.db import UnitOfWork
from harambee_common.events import Event


def on_referral_received(uow: UnitOfWork, event: Event) -> None:
    """A referral has arrived: open its case."""
    service.open_case(
        uow=uow,
        referral_id=uuid.UUID(event.data["referral_id"]),
        subject_ref=uuid.UUID(event.data["subject_ref"]),
    )


SUBSCRIPTION = Subscription(
    name="assessment",
    topics=("intake.events", "registry.events"),
    handlers={"referral.received": on_referral_received, **AGREEMENT_HANDLERS},
)
