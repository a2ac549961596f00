"""The retention policy and what each run did."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from harambee_intake.schema_types import Strict


class RetentionPolicy(Strict):
    """Days after screening before a referral with each outcome is minimised (null: kept)."""

    no_further_action_days: int | None = Field(default=90, ge=1, le=3650)
    signpost_days: int | None = Field(default=180, ge=1, le=3650)
    escalate_days: int | None = Field(default=None, ge=1, le=3650)


class RetentionRunView(BaseModel):
    """What a retention run did."""

    id: uuid.UUID
    ran_at: datetime
    ran_by: str
    report: dict[str, Any]
