"""What the follow-ups' clients send and receive."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from harambee_common.catalogue.interventions import FollowUpOutcome
from harambee_common.pagination import Page


class FollowUpIn(BaseModel):
    """How the person is doing, in coded fields only."""

    model_config = ConfigDict(extra="forbid")

    outcome: FollowUpOutcome
    in_education_or_work: bool | None
    """Whether the person is in education, training or work (null: not known)."""
    re_referred: bool
    """Whether the person has been referred again since closure."""


class FollowUpView(BaseModel):
    """A follow-up: when it is due, and what it recorded."""

    model_config = ConfigDict(from_attributes=True)

    follow_up_id: uuid.UUID
    case_id: uuid.UUID
    months_after_exit: int
    due_on: date
    recorded_at: datetime | None
    outcome: FollowUpOutcome | None
    in_education_or_work: bool | None
    re_referred: bool | None


class FollowUpPage(Page[FollowUpView]):
    """One page of a case's follow-ups, soonest due first."""
