"""What interventions' clients receive."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from harambee_common.pagination import Page


class KnownCaseView(BaseModel):
    """A case interventions knows of, by reference only."""

    model_config = ConfigDict(from_attributes=True)

    case_id: uuid.UUID
    subject_ref: uuid.UUID
    opened_at: datetime


class KnownCasePage(Page[KnownCaseView]):
    """One page of known cases."""


class _Held(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SubjectPlan(_Held):
    """A plan for the person: its state and how it ended."""

    plan_id: uuid.UUID
    case_id: uuid.UUID
    version: int
    status: str
    created_at: datetime
    next_review_on: date
    exit_reason: str | None
    closing_report: str | None
    ended_at: datetime | None


class SubjectTask(_Held):
    """A plan item: the need, the goal, who delivers it (by provider id)."""

    task_id: uuid.UUID
    plan_id: uuid.UUID
    need: str
    goal: str
    intervention_type: str
    provider_id: uuid.UUID
    starts_on: date
    expected_end_on: date
    status: str


class SubjectSession(_Held):
    """A session a provider recorded, with its note."""

    session_id: uuid.UUID
    task_id: uuid.UUID
    held_on: date
    duration_minutes: int
    attended: bool
    note: str | None


class SubjectProgress(_Held):
    """A progress update a provider recorded, with its note."""

    progress_id: uuid.UUID
    task_id: uuid.UUID
    rating: str
    note: str | None
    recorded_at: datetime


class SubjectFollowUp(_Held):
    """A follow-up after closure."""

    follow_up_id: uuid.UUID
    case_id: uuid.UUID
    months_after_exit: int
    due_on: date
    outcome: str | None
    in_education_or_work: bool | None
    re_referred: bool | None


class SubjectRecord(BaseModel):
    """What interventions holds about one person, for a data-subject access request."""

    service: str
    subject_ref: uuid.UUID
    known_cases: list[KnownCaseView]
    plans: list[SubjectPlan]
    tasks: list[SubjectTask]
    sessions: list[SubjectSession]
    progress: list[SubjectProgress]
    follow_ups: list[SubjectFollowUp]
