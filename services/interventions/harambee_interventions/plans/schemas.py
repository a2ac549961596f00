"""What the plans' clients send and receive (county staff only: providers see tasks, in `tasks`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from harambee_common.catalogue.interventions import ExitReason
from harambee_common.pagination import Page

Goal = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,62}$")]


class PlanItemIn(BaseModel):
    """One plan item: a need of the approved assessment, the goal for it, and who delivers what when."""

    model_config = ConfigDict(extra="forbid")

    task_id: uuid.UUID | None = None
    """An open task of the current version to keep (its goal, end and practitioner may change); none: a new task."""
    need: Code
    """The need it addresses: a need code of the case's approved assessment."""
    goal: Goal
    """What the support should achieve, in words the provider reads."""
    intervention_type: Code
    """A type of the tenant's catalogue the provider is vetted for."""
    provider_id: uuid.UUID
    practitioner_id: uuid.UUID | None = None
    """A named practitioner of the provider (none: the provider organisation assigns it)."""
    starts_on: date
    expected_end_on: date

    @model_validator(mode="after")
    def _ends_after_start(self) -> PlanItemIn:
        if self.expected_end_on < self.starts_on:
            raise ValueError("expected_end_on must not be before starts_on")
        return self


Items = Annotated[list[PlanItemIn], Field(min_length=1, max_length=50)]


class PlanIn(BaseModel):
    """A case's first plan."""

    model_config = ConfigDict(extra="forbid")

    items: Items
    next_review_on: date | None = None
    """The first review (default: the tenant's review interval from today)."""


class PlanChangeIn(BaseModel):
    """A new version of the plan, made from the version the client read."""

    model_config = ConfigDict(extra="forbid")

    based_on_version: Annotated[int, Field(ge=1, le=1_000_000)]
    items: Items


class PlanItemView(BaseModel):
    """One item of the plan, as county staff see it (its task, and how delivery is going)."""

    model_config = ConfigDict(from_attributes=True)

    task_id: uuid.UUID
    need: str
    goal: str
    intervention_type: str
    provider_id: uuid.UUID
    practitioner_id: uuid.UUID | None
    starts_on: date
    expected_end_on: date
    status: str
    """open, completed (goal met), ended (dropped or case closed), stopped (withdrawal or transfer)."""
    stop_reason: str | None
    last_session_on: date | None
    last_progress_at: datetime | None


class PlanView(BaseModel):
    """A case's plan: its current version and items."""

    plan_id: uuid.UUID
    case_id: uuid.UUID
    subject_ref: uuid.UUID
    version: int
    status: str
    """active, stopped (consent withdrawn) or closed."""
    next_review_on: date
    last_reviewed_at: datetime | None
    exit_reason: str | None
    closing_report: str | None
    ended_at: datetime | None
    items: list[PlanItemView]
    """Every task the plan has had, oldest first: the current version's are open (or completed)."""


class PlanVersionView(BaseModel):
    """One past or current version of a plan, as it stood."""

    model_config = ConfigDict(from_attributes=True)

    version: int
    items: list[dict]
    made_at: datetime
    reason: str


class PlanVersionPage(Page[PlanVersionView]):
    """One page of a plan's versions, newest first."""


class GoalOutcome(BaseModel):
    """Whether an open task's goal was met, as the review found."""

    model_config = ConfigDict(extra="forbid")

    task_id: uuid.UUID
    met: bool


class ReviewIn(BaseModel):
    """A review of the plan: each open goal met or not, the plan kept or changed, the next review."""

    model_config = ConfigDict(extra="forbid")

    reviewed_on: date
    goals: Annotated[list[GoalOutcome], Field(max_length=50)]
    items: Items | None = None
    """The plan's new items when the review changes it (absent: the plan is kept)."""
    reassessment_requested: bool = False
    next_review_on: date | None = None
    """Default: the tenant's review interval from the review."""
    note: Note | None = None


class ReviewView(BaseModel):
    """A review as recorded."""

    model_config = ConfigDict(from_attributes=True)

    review_id: uuid.UUID
    reviewed_on: date
    goals: list[GoalOutcome]
    plan_version: int
    plan_changed: bool
    reassessment_requested: bool
    next_review_on: date
    note: str | None
    recorded_at: datetime


class ReviewPage(Page[ReviewView]):
    """One page of a plan's reviews, newest first."""


class ClosureIn(BaseModel):
    """Closing the case's support: why, and the closing report."""

    model_config = ConfigDict(extra="forbid")

    exit_reason: ExitReason
    """Why support ends; `relocation` only through the case's transfer to another county (a 409 here)."""
    closing_report: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=10_000)]
