"""What interventions' clients receive."""

from __future__ import annotations

import uuid
from datetime import datetime

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


class SubjectRecord(BaseModel):
    """What interventions holds about one person, for a data-subject access request."""

    service: str
    subject_ref: uuid.UUID
    known_cases: list[KnownCaseView]
