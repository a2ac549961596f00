"""The person's rights: tracked requests, access, rectification, erasure."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from harambee_common.catalogue.intake import ThirdPartyField
from harambee_common.pagination import Page
from harambee_intake.schema_types import Gender, Giver, GuardianIn, LongText, Reason, Strict


class RightsDeadlines(Strict):
    """Days the tenant gives itself to answer each kind of request (Kenya: 7 days by regulation)."""

    access_days: int = Field(default=7, ge=1, le=90)
    rectification_days: int = Field(default=7, ge=1, le=90)
    erasure_days: int = Field(default=7, ge=1, le=90)


class RightsRequestIn(Strict):
    """A request by or for the person, as the programme received it."""

    kind: Literal["access", "rectification", "erasure"]
    requested_by: Giver
    received_at: datetime | None = Field(default=None, description="Defaults to now")
    note: LongText | None = None


class RightsRequestView(BaseModel):
    """A tracked rights request."""

    id: uuid.UUID
    subject_ref: uuid.UUID
    kind: str
    requested_by: str
    received_at: datetime
    due_at: datetime
    overdue: bool
    status: str
    outcome: str | None
    gaps: list[dict[str, Any]]
    last_attempt_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    recorded_by: str


class RightsRequestPage(Page[RightsRequestView]):
    """One page of rights requests, soonest due first."""


class AccessRelease(Strict):
    """An intake officer's release of fields about the referrer or third parties into an access export."""

    fields: list[ThirdPartyField] = Field(min_length=1, max_length=20, description=(
        "The fields to release; every other field about someone else stays withheld"))
    referral_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=100, description=(
        "Release them from these referrals only (default: every referral of the person)"))
    reason: Reason = Field(description="Why they may be disclosed, e.g. the referrer agreed (kept sealed)")


class AccessFulfilment(BaseModel):
    """The person's data, gathered: `complete` is false while another service's part is missing."""

    request: RightsRequestView
    complete: bool
    document: dict[str, Any]


class ClosureIn(Strict):
    """Closing a request by hand: refused (with the reason) or fulfilled outside the system."""

    outcome: Literal["fulfilled", "refused"]
    reason: Reason


class IdentityChanges(Strict):
    """Corrections to identifying data."""

    given_name: str | None = Field(default=None, min_length=1, max_length=200)
    family_name: str | None = Field(default=None, min_length=1, max_length=200)
    other_names: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    gender: Gender | None = None
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    guardians: list[GuardianIn] | None = Field(default=None, max_length=4)


class RectificationIn(Strict):
    """A rectification: fields to set, fields to remove, and why."""

    set: IdentityChanges = Field(default_factory=IdentityChanges)
    remove: list[Literal["other_names", "date_of_birth", "gender", "phone", "email", "address",
                         "guardians"]] = Field(default_factory=list)
    reason: Reason
    rights_request_id: uuid.UUID | None = None


class RectificationView(BaseModel):
    """What a rectification changed (names of fields, not their values)."""

    subject_ref: uuid.UUID
    version: int
    changed: list[str]


class ErasureIn(Strict):
    """Erasure of a person: their data key is destroyed."""

    reason: Reason
    rights_request_id: uuid.UUID | None = None


class ErasureView(BaseModel):
    """What an erasure did."""

    subject_ref: uuid.UUID
    erased_subjects: list[uuid.UUID]
    erased_at: datetime
    cleared: dict[str, int]
