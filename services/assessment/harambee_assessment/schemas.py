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
