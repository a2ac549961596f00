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


@event_type("plan.versioned", topic=TOPIC)
class PlanVersioned(EventData):
    """A case's plan was created or changed: a new, immutable version (goals stay in interventions)."""

    plan_id: uuid.UUID
    """The plan (one per case; its versions share the id)."""
    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    version: int
    """The new version (1 when the plan is created)."""
    intervention_types: list[str]
    """Codes of the tenant's intervention catalogue used by the version's items, sorted and distinct."""
    needs: list[str]
    """The needs (needs-screen item codes) the version's items address, sorted and distinct."""
    items: int
    """How many plan items the version holds."""
    versioned_at: datetime
    """When the version was made."""


@event_type("session.recorded", topic=TOPIC)
class SessionRecorded(EventData):
    """A provider recorded a session of a task (the session's note stays in interventions)."""

    session_id: uuid.UUID
    """The session."""
    task_id: uuid.UUID
    """The task (one plan item given to one provider)."""
    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    provider: uuid.UUID
    """The provider organisation's registry id."""
    intervention_type: str
    """The task's intervention type (a catalogue code)."""
    held_on: date
    """The day of the session."""
    duration_minutes: int
    """How long it lasted."""
    attended: bool
    """Whether the person attended."""
    recorded_at: datetime
    """When it was recorded."""


FollowUpOutcome = Literal["doing_well", "some_concerns", "serious_concerns", "not_reached"]


@event_type("follow_up.recorded", topic=TOPIC)
class FollowUpRecorded(EventData):
    """A follow-up review after closure recorded how the person is doing, in codes."""

    follow_up_id: uuid.UUID
    """The follow-up."""
    case_id: uuid.UUID
    """The closed case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    months_after_exit: int
    """Which follow-up this is: months after closure (6 and 12 by default)."""
    outcome: FollowUpOutcome
    """How the person is doing (a code)."""
    in_education_or_work: bool | None
    """Whether the person is in education, training or work (None: not known)."""
    re_referred: bool
    """Whether the person has been referred again since closure."""
    recorded_at: datetime
    """When it was recorded."""
