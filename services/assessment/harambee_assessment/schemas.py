"""What assessment's clients receive."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from harambee_common.catalogue.assessment import RefusalReason, TransferReason
from harambee_common.pagination import Page


class CaseView(BaseModel):
    """A case, by pseudonymous reference only.

    A case transferred away shows only id, status, dates and transfer_id (and whatever the transfer's
    agreement let the sender keep); a case received by transfer has no referral here.
    """

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    subject_ref: uuid.UUID | None
    referral_id: uuid.UUID | None
    status: str
    opened_at: datetime
    closed_at: datetime | None = None
    transfer_id: uuid.UUID | None = None
    transferred_from: uuid.UUID | None = None
    reassessment_due_on: date | None = None
    reassessment_reason: str | None = None
    consent_id: uuid.UUID | None = None


class CasePage(Page[CaseView]):
    """One page of cases."""


class Count(BaseModel):
    """One cell of an aggregate: its count, or null when it is too small to publish."""

    key: str
    count: int | None
    suppressed: bool


class CaseAggregates(BaseModel):
    """Counts of a tenant's cases; cells below the threshold are suppressed for outside readers."""

    tenant: str
    suppression_threshold: int | None
    by_status: list[Count]
    by_month_opened: list[Count]


# --- Transfers between counties -------------------------------------------------------------------

TenantSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
# The reasons are codes, not prose (the catalogue's): they travel in events, which never carry what a
# person wrote about someone.
# Free text stays in the tenant that wrote it and is erased with the case's other details.
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class TransferProposal(BaseModel):
    """The sending county asks another county to take the case over."""

    model_config = ConfigDict(extra="forbid")

    to: TenantSlug
    reason: TransferReason
    note: Note | None = None


class TransferAcceptance(BaseModel):
    """The receiving county takes the case over."""

    model_config = ConfigDict(extra="forbid")

    note: Note | None = None


class TransferRefusal(BaseModel):
    """The receiving county declines the case, with a reason."""

    model_config = ConfigDict(extra="forbid")

    reason: RefusalReason
    note: Note | None = None


class TransferView(BaseModel):
    """This tenant's side of a transfer: `outgoing` in the sender, `incoming` in the receiver.

    case_id is the case in the sending tenant; received_case_id the receiver's new case, once accepted.
    """

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    direction: str
    case_id: uuid.UUID
    subject_ref: uuid.UUID | None
    from_tenant: str
    to_tenant: str
    status: str
    reason: str
    note: str | None
    agreement_id: uuid.UUID | None
    agreement_version: int | None
    proposed_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    decision_note: str | None
    received_case_id: uuid.UUID | None


class TransferPage(Page[TransferView]):
    """One page of transfers."""


class ExportedAssessment(BaseModel):
    """An assessment of the person, as their access request returns it (contributors' notes stay out)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    status: str
    ratings: dict[str, Any]
    summary: str | None
    needs: list[str]
    management_plan: str | None
    started_at: datetime
    approved_at: datetime | None


class ExportedDecision(BaseModel):
    """A panel decision about the person (members' dissent stays out: it is theirs)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    outcome: str
    reasons: str
    referred_to: str | None
    next_review_on: date | None
    decided_at: datetime


class ExportedRequest(BaseModel):
    """That an agency was asked about the person, and whether it shared the concern (what it said is its own,
    released on request through the agency)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    organisation: str
    data_categories: list[str]
    status: str
    requested_at: datetime
    shares_concern: str | None
    answered_at: datetime | None


class SubjectRecord(BaseModel):
    """What assessment holds about one person, for a data-subject access request."""

    service: str
    subject_ref: uuid.UUID
    cases: list[CaseView]
    assessments: list[ExportedAssessment] = []
    panel_decisions: list[ExportedDecision] = []
    information_requests: list[ExportedRequest] = []


class Assignment(BaseModel):
    """An assessor to assign to a case."""

    model_config = ConfigDict(extra="forbid")

    assessor: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AssignmentList(BaseModel):
    """The assessors assigned to a case."""

    assessors: list[str]


class CaseSummary(BaseModel):
    """What a partner under an agreement sees of a case it is involved in: where it stands, no more.

    Each field the agreement does not name is null (its field names: `case_id`, `status`, `opened_at`,
    `latest_outcome`, `decided_at`)."""

    case_id: uuid.UUID
    status: str | None
    opened_at: datetime | None
    latest_outcome: str | None
    decided_at: datetime | None


class DueReassessment(BaseModel):
    """A case due for reassessment."""

    case_id: uuid.UUID
    subject_ref: uuid.UUID | None
    status: str
    due_on: date
    reason: str
    overdue: bool


class DueReassessmentPage(Page[DueReassessment]):
    """One page of due reassessments, soonest first."""
