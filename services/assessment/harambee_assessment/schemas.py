"""What assessment's clients receive."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class CaseView(BaseModel):
    """A case, by pseudonymous reference only."""

    id: uuid.UUID
    subject_ref: uuid.UUID
    referral_id: uuid.UUID
    status: str
    opened_at: datetime


class CasePage(BaseModel):
    """One page of cases."""

    items: list[CaseView]
    next_cursor: str | None


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
