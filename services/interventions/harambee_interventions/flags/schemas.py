"""What the flags' clients send and receive."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from harambee_common.catalogue.interventions import FlagKind
from harambee_common.pagination import Page

# What a person records on closing a flag; the others are interventions' own (flags.closing).
StaffAction = Literal["provider_contacted", "person_contacted", "task_reassigned", "plan_changed",
                      "review_scheduled", "provider_revetted", "other"]
FlagStatus = Literal["open", "closed", "all"]


class FlagCloseIn(BaseModel):
    """The action taken on a flag: a flag is closed only with one."""

    model_config = ConfigDict(extra="forbid")

    action: StaffAction
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]
    """What was done, briefly (stays in interventions)."""


class FlagView(BaseModel):
    """A flag on a case."""

    model_config = ConfigDict(from_attributes=True)

    flag_id: uuid.UUID
    kind: FlagKind
    case_id: uuid.UUID
    subject_ref: uuid.UUID
    target_id: uuid.UUID
    """The task, plan or follow-up it concerns."""
    task_id: uuid.UUID | None
    raised_at: datetime
    closed_at: datetime | None
    action: str | None
    note: str | None


class FlagPage(Page[FlagView]):
    """One page of flags, newest first."""
