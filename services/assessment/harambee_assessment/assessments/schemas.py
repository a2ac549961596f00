"""What assessment clients send and receive. Ratings are structured judgement: there is no score."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from harambee_assessment.assessments.changes import Changes
from harambee_assessment.frameworks.definition import Code
from harambee_common.pagination import Page

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class AssessmentStart(BaseModel):
    """Starts a draft assessment with a published framework version (the latest if none is named)."""

    model_config = ConfigDict(extra="forbid")

    framework_id: uuid.UUID
    framework_version: int | None = Field(default=None, ge=1, le=1_000_000)


class ContributionIn(BaseModel):
    """One assessor's ratings (item code -> an option of the item's scale) and what they observed."""

    model_config = ConfigDict(extra="forbid")

    ratings: dict[Code, Code] = Field(default_factory=dict, max_length=200)
    note: Note | None = None


class Submission(BaseModel):
    """What an assessment must say to be submitted."""

    model_config = ConfigDict(extra="forbid")

    summary: Text = Field(description="The summary conclusion.")
    needs: list[Code] = Field(min_length=1, max_length=30,
                              description="Needs identified: item codes of the tenant's needs screen.")
    management_plan: Text = Field(description="How the case is to be managed until the panel decides and after.")


class Rating(BaseModel):
    """An item's current rating, and who gave it."""

    rating: str
    by: str
    at: datetime


class ContributionView(BaseModel):
    """An attributed contribution."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    author: str
    organisation: str | None
    ratings: dict[str, str]
    note: str | None
    contributed_at: datetime


class AssessmentView(BaseModel):
    """An assessment with its contributions and what changed since the previous approved one."""

    id: uuid.UUID
    case_id: uuid.UUID
    framework_id: uuid.UUID
    framework_version: int
    status: Literal["draft", "submitted", "approved", "superseded"]
    ratings: dict[str, Rating]
    summary: str | None
    needs: list[str]
    management_plan: str | None
    started_by: str
    started_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    supersedes: uuid.UUID | None
    superseded_by: uuid.UUID | None
    returned_reason: str | None
    contributions: list[ContributionView]
    changes: Changes


class AssessmentPage(Page[AssessmentView]):
    """One page of a case's assessments, newest first."""


class Return(BaseModel):
    """Why a reviewer sends a submitted assessment back."""

    model_config = ConfigDict(extra="forbid")

    reason: Note
