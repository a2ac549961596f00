"""What information-request clients send and receive: staff see the case's reference, the agency does not."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from harambee_common.pagination import Page

Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


class InformationRequestIn(BaseModel):
    """Asks another agency whether it shares the concern and what it knows."""

    model_config = ConfigDict(extra="forbid")

    organisation: Slug = Field(description="The registry id of the organisation asked.")
    question: Text
    data_categories: list[Category] = Field(min_length=1, max_length=20,
                                            description="Data categories asked for: names of the agreement's.")
    agreement_id: uuid.UUID | None = Field(
        default=None, description="The agreement the request is made under (default: one in force that permits it).")
    due_on: date | None = Field(default=None, description="When an answer is due (default: in 14 days).")


class AnswerIn(BaseModel):
    """The agency's structured answer."""

    model_config = ConfigDict(extra="forbid")

    shares_concern: Literal["yes", "no", "unknown"]
    knowledge: Text | None = Field(default=None, description="What the agency knows.")
    attachments: list[Reference] = Field(default_factory=list, max_length=20,
                                         description="References to documents held by the agency (not the documents).")


class AddressedRequest(BaseModel):
    """A request as the agency asked sees it: the question and its own answer, never the case.

    The question and the answer are sent as the agreement names them (`question`, `shares_concern`,
    `knowledge`, `attachments`; null otherwise); the question is null too where the agreement requires the
    person's consent naming your organisation and none is recorded."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation: str
    question: str | None
    data_categories: list[str]
    due_on: date
    status: Literal["open", "answered"]
    requested_at: datetime
    shares_concern: str | None
    knowledge: str | None
    attachments: list[str] | None
    answered_at: datetime | None


class InformationRequestView(AddressedRequest):
    """A request as the county's staff see it."""

    question: str
    case_id: uuid.UUID
    agreement_id: uuid.UUID
    agreement_version: int
    requested_by: str
    answered_by: str | None
    overdue: bool


class AddressedPage(Page[AddressedRequest]):
    """One page of the requests addressed to your organisation."""


class InformationRequestPage(Page[InformationRequestView]):
    """One page of information requests."""
