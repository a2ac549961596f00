"""Events published on `assessment.events` by the assessment service."""

from __future__ import annotations

import uuid
from datetime import datetime

from harambee_common.catalogue.base import EventData, event_type

TOPIC = "assessment.events"


@event_type("case.opened", topic=TOPIC)
class CaseOpened(EventData):
    """A case was opened for an accepted referral: interventions starts to know it."""

    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    referral_id: uuid.UUID
    """The referral the case was opened for."""
    opened_at: datetime
    """When the case was opened."""
