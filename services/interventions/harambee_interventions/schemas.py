"""What interventions' clients receive."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class KnownCaseView(BaseModel):
    """A case interventions knows of, by reference only."""

    case_id: uuid.UUID
    subject_ref: uuid.UUID
    opened_at: datetime


class KnownCasePage(BaseModel):
    """One page of known cases."""

    items: list[KnownCaseView]
    next_cursor: str | None


class SubjectRecord(BaseModel):
    """What interventions holds about one person, for a data-subject access request."""

    service: str
    subject_ref: uuid.UUID
    known_cases: list[KnownCaseView]
