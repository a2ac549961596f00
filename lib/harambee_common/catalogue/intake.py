"""Events published on `intake.events` by the intake service."""

from __future__ import annotations

import uuid
from datetime import datetime

from harambee_common.catalogue.base import EventData, event_type

TOPIC = "intake.events"


@event_type("referral.accepted", topic=TOPIC)
class ReferralAccepted(EventData):
    """Screening accepted a referral for information gathering and assessment: assessment opens its case."""

    referral_id: uuid.UUID
    """The referral accepted."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference (the only way other services know them)."""
    source_type: str
    """Who referred, as a coded source type (education, health, ...)."""
    organisation: str | None
    """The referring organisation's registry id, if it has one."""
    received_at: datetime
    """When the referral arrived."""
    accepted_at: datetime
    """When screening accepted it."""
