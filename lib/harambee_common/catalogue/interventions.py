"""Events published on `interventions.events` by the interventions service.

`plan.reviewed` is the contract with assessment (a review may ask for reassessment); `plan.versioned`,
`session.recorded`, `progress.recorded`, `case.closed` and `follow_up.recorded` feed monitoring; the
rest (providers vetted, tasks stopped, flags raised and closed) make the audit log complete.
They carry references and codes only: session notes, goals, flag actions' notes and closing reports
stay in interventions. `provider` is interventions' provider id (one per registry organisation and
tenant); `provider.vetted` names the organisation (its registry slug) behind each.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

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
    """The provider (interventions' provider id: one registry organisation in one tenant; see `provider.vetted`)."""
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


ProgressRating = Literal["no_progress", "some_progress", "good_progress", "goal_met"]


@event_type("progress.recorded", topic=TOPIC)
class ProgressRecorded(EventData):
    """A provider recorded progress towards a task's goal, as a rating (its note stays in interventions)."""

    progress_id: uuid.UUID
    """The progress update."""
    task_id: uuid.UUID
    """The task."""
    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    provider: uuid.UUID
    """The provider (interventions' provider id)."""
    intervention_type: str
    """The task's intervention type (a catalogue code)."""
    rating: ProgressRating
    """How far the goal has come (a code)."""
    recorded_at: datetime
    """When it was recorded."""


@event_type("provider.vetted", topic=TOPIC)
class ProviderVetted(EventData):
    """A provider organisation was vetted for one intervention type, until an expiry date."""

    provider: uuid.UUID
    """The provider (interventions' provider id)."""
    organisation: str
    """The provider organisation's registry slug."""
    intervention_type: str
    """The intervention type it was vetted for (a catalogue code)."""
    vetted_on: date
    """When the vetting was done."""
    expires_on: date
    """When it lapses: after it, the provider gets no new tasks of this type and its open ones are flagged."""
    actor: str
    """Who recorded it: the token's subject."""


TaskStopReason = Literal["consent_withdrawn", "case_withdrawn", "case_closed", "plan_changed", "case_transferred"]


@event_type("task.stopped", topic=TOPIC)
class TaskStopped(EventData):
    """A provider's task ended before or without its goal being met: the provider records nothing more on it."""

    task_id: uuid.UUID
    """The task."""
    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    provider: uuid.UUID
    """The provider (interventions' provider id)."""
    reason: TaskStopReason
    """Why it stopped (a code)."""
    stopped_at: datetime
    """When it stopped."""


FlagKind = Literal["no_recent_session", "vetting_expired", "goal_without_progress", "review_overdue", "follow_up_due"]
# The first seven are a person's actions; the last four are recorded by interventions itself when the
# flagged matter is dealt with (a review held, a follow-up recorded, the case closed, the work stopped).
FlagAction = Literal[
    "provider_contacted", "person_contacted", "task_reassigned", "plan_changed", "review_scheduled",
    "provider_revetted", "other", "review_held", "follow_up_recorded", "case_closed", "work_stopped",
]


class _Flag(EventData):
    """A flag on a case whose support may be petering out."""

    flag_id: uuid.UUID
    """The flag."""
    kind: FlagKind
    """What stalled (a code)."""
    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    task_id: uuid.UUID | None
    """The task it concerns, if it concerns one."""


@event_type("flag.raised", topic=TOPIC)
class FlagRaised(_Flag):
    """The scheduled check found a plan, task or follow-up stalled and raised a flag."""

    raised_at: datetime
    """When it was raised."""


@event_type("flag.closed", topic=TOPIC)
class FlagClosed(_Flag):
    """A flag was closed with the action taken (its note stays in interventions)."""

    action: FlagAction
    """What was done about it (a code)."""
    actor: str
    """Who closed it: the token's subject, or `interventions` when the work stopped."""
    closed_at: datetime
    """When it was closed."""


@event_type("plan.transferred", topic=TOPIC)
class PlanTransferred(EventData):
    """A case's plan moved with the case to another county (receiver's log), under the sender's agreement."""

    plan_id: uuid.UUID
    """The plan (it keeps its id)."""
    case_id: uuid.UUID
    """The receiving county's case."""
    previous_case_id: uuid.UUID
    """The sending county's case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    from_tenant: str
    """The sending county."""
    agreement_id: uuid.UUID
    """The sending county's agreement that let the plan move."""
    agreement_version: int
    """That agreement's version."""


@event_type("intervention_type.changed", topic=TOPIC)
class InterventionTypeChanged(EventData):
    """A tenant added, reworded or retired a type of its intervention catalogue."""

    # The label and description (the tenant's wording) are kept in interventions' history only.

    change_id: uuid.UUID
    """Interventions' record of the change (`GET .../settings/history`), with the wording before and after."""
    code: str
    """The type's code."""
    active: bool
    """Whether new plan items may use it."""
    previous_active: bool | None
    """Whether it was in use before (a default type is; null: a type the tenant adds)."""
    actor: str
    """Who changed it: the token's subject."""


class InterventionSettings(BaseModel):
    """A tenant's intervention-tracking settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    stall_days: int
    """A task with no session for this many days is flagged."""
    review_interval_months: int
    """Months between a plan's reviews, unless a review sets the next."""
    follow_up_months: list[int]
    """Follow-ups after closure, in months after it."""


@event_type("intervention_settings.changed", topic=TOPIC)
class InterventionSettingsChanged(EventData):
    """A tenant changed when plans count as stalled, how often they are reviewed, or when follow-ups fall due."""

    change_id: uuid.UUID
    """Interventions' record of the change (`GET .../settings/history`)."""
    stall_days: int
    """A task with no session for this many days is flagged."""
    review_interval_months: int
    """Months between a plan's reviews, unless a review sets the next."""
    follow_up_months: list[int]
    """Follow-ups after closure, in months after it."""
    previous: InterventionSettings
    """The settings in force before (the defaults while the tenant had set none)."""
    actor: str
    """Who changed them: the token's subject."""
