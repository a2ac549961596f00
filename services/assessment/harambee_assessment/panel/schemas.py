"""What panel clients send and receive."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from harambee_assessment.assessments.schemas import AssessmentView
from harambee_common.pagination import Page

Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class Attendee(BaseModel):
    """A person at the meeting and the agency they speak for."""

    model_config = ConfigDict(extra="forbid")

    person: Ref = Field(description="The person's reference (their token `sub`).")
    agency: Code = Field(description="The agency they represent (a registry id or a code).")


class MeetingIn(BaseModel):
    """A panel meeting: date, chair, attendees and the cases on its agenda."""

    model_config = ConfigDict(extra="forbid")

    held_on: date
    chair: Ref = Field(description="The chair's reference; the chair attends.")
    attendees: list[Attendee] = Field(min_length=1, max_length=50)
    agenda: list[uuid.UUID] = Field(default_factory=list, max_length=200, description="Case ids.")


class AgendaAddition(BaseModel):
    """A case added to a meeting's agenda."""

    model_config = ConfigDict(extra="forbid")

    case_id: uuid.UUID


class MeetingView(BaseModel):
    """A panel meeting (its agenda's cases are read through /agenda)."""

    id: uuid.UUID
    held_on: date
    chair: str
    attendees: list[Attendee]
    agencies: int
    quorum: int
    quorate: bool
    created_by: str
    created_at: datetime


class MeetingPage(Page[MeetingView]):
    """One page of panel meetings, latest first."""


class Dissent(BaseModel):
    """A member's dissent from a decision, with their reason."""

    model_config = ConfigDict(extra="forbid")

    member: Ref
    reason: Text


class DecisionIn(BaseModel):
    """The panel's decision on one case of the agenda."""

    model_config = ConfigDict(extra="forbid")

    case_id: uuid.UUID
    outcome: Literal["adopt", "decline", "signpost", "escalate"]
    reasons: Text
    referred_to: Code | None = Field(default=None, description="Where a signpost or an escalation goes (a code).")
    dissent: list[Dissent] = Field(default_factory=list, max_length=50)
    next_review_on: date | None = Field(default=None, description="Required for adopt: when the panel reviews next.")


class DecisionView(BaseModel):
    """A panel decision."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    meeting_id: uuid.UUID
    case_id: uuid.UUID
    assessment_id: uuid.UUID
    outcome: str
    reasons: str
    referred_to: str | None
    dissent: list[Dissent]
    next_review_on: date | None
    decided_by: str
    decided_at: datetime


class DecisionPage(Page[DecisionView]):
    """One page of decisions, newest first."""


class AgendaItemView(BaseModel):
    """A case on the agenda, as the panel reads it: the approved assessment and any decision."""

    case_id: uuid.UUID
    subject_ref: uuid.UUID | None
    status: str
    assessment: AssessmentView | None
    decision: DecisionView | None


class AgendaPage(Page[AgendaItemView]):
    """One page of a meeting's agenda, in the order the cases were added."""
