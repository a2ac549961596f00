"""Events published on `interventions.events` by the interventions service.

Intervention tracking adds its own types here, each before its first producer. The two below are the
contract with assessment (a review may ask for reassessment) and with monitoring (how a case ended).
They carry references and codes only: session notes, goals and closing reports stay in interventions.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from harambee_common.catalogue.base import EventData, event_type

TOPIC = "interventions.events"

ExitReason = Literal[
    "vulnerability_removed", "substantially_reduced", "consent_withdrawn", "relocation", "escalation", "no_engagement",
]


@event_type("plan.reviewed", topic=TOPIC)
class PlanReviewed(EventData):
    """A periodic review of a case's plan took place."""

    review_id: uuid.UUID
    """The review."""
    case_id: uuid.UUID
    """The case (assessment's case id)."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    goals_met: int
    """Plan items whose goal the review found met."""
    goals_not_met: int
    """Plan items whose goal the review found not (yet) met."""
    plan_changed: bool
    """Whether the review changed the plan (a new plan version)."""
    reassessment_requested: bool
    """Whether the review asks assessment for a reassessment."""
    next_review_on: date
    """When the plan is reviewed next."""
    reviewed_at: datetime
    """When the review was recorded."""


@event_type("case.closed", topic=TOPIC)
class CaseClosed(EventData):
    """Support ended: the case is closed with a reason, and follow-ups are scheduled."""

    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    exit_reason: ExitReason
    """Why support ended (a code)."""
    follow_ups_due: list[date]
    """When follow-up reviews are due (by default 6 and 12 months after closure)."""
    closed_at: datetime
    """When it was closed."""
