"""What providers send and receive. Nothing here names the person, the need, the assessment or the referral."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from harambee_common.catalogue.interventions import ProgressRating
from harambee_common.pagination import Page

TaskStatus = Literal["open", "completed", "ended", "stopped"]
ShortNote = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class TaskView(BaseModel):
    """One of the provider's tasks, cut to its agreement's fields (null where it names none). A stopped task shows
    its id and status only."""

    task_id: uuid.UUID
    status: TaskStatus
    """open, completed (the goal was met), ended (the plan no longer needs it), stopped (nothing more may be done)."""
    reference: uuid.UUID | None
    """The pseudonymous reference the provider knows the person by (the same on its tasks for one person)."""
    goal: str | None
    intervention_type: str | None
    practitioner_id: uuid.UUID | None
    starts_on: date | None
    expected_end_on: date | None
    last_session_on: date | None


class TaskPage(Page[TaskView]):
    """One page of the provider's tasks, newest first."""


class SessionIn(BaseModel):
    """A session held (or missed)."""

    model_config = ConfigDict(extra="forbid")

    held_on: date
    duration_minutes: Annotated[int, Field(ge=0, le=600)]
    attended: bool
    note: ShortNote | None = None
    """A short note for the county (no more than 500 characters)."""


class SessionView(BaseModel):
    """A recorded session."""

    model_config = ConfigDict(from_attributes=True)

    session_id: uuid.UUID
    task_id: uuid.UUID
    held_on: date
    duration_minutes: int
    attended: bool
    note: str | None
    recorded_at: datetime


class SessionPage(Page[SessionView]):
    """One page of a plan's sessions, newest first."""


class ProviderSessionView(BaseModel):
    """A recorded session as its provider reads it: a field its agreement does not name is null."""

    session_id: uuid.UUID
    task_id: uuid.UUID
    held_on: date | None
    duration_minutes: int | None
    attended: bool | None
    note: str | None
    recorded_at: datetime | None


class ProviderSessionPage(Page[ProviderSessionView]):
    """One page of a task's sessions, newest first."""


class ProgressIn(BaseModel):
    """Progress towards the task's goal."""

    model_config = ConfigDict(extra="forbid")

    rating: ProgressRating
    note: ShortNote | None = None


class ProgressView(BaseModel):
    """A recorded progress update."""

    model_config = ConfigDict(from_attributes=True)

    progress_id: uuid.UUID
    task_id: uuid.UUID
    rating: ProgressRating
    note: str | None
    recorded_at: datetime
