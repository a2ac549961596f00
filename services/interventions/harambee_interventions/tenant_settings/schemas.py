"""What the settings' clients send and receive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SettingsIn(BaseModel):
    """The tenant's settings (all of them: a PUT replaces the set)."""

    model_config = ConfigDict(extra="forbid")

    stall_days: Annotated[int, Field(ge=1, le=365)] = 21
    """A task with no session for this many days is flagged."""
    review_interval_months: Annotated[int, Field(ge=1, le=24)] = 3
    """A plan is reviewed this many months after it was made or last reviewed, unless a review says otherwise."""
    follow_up_months: Annotated[list[Annotated[int, Field(ge=1, le=60)]], Field(min_length=0, max_length=6)] = [6, 12]
    """Follow-up reviews after closure, in months after it."""

    @field_validator("follow_up_months")
    @classmethod
    def _distinct(cls, months: list[int]) -> list[int]:
        if len(set(months)) != len(months):
            raise ValueError("each follow-up month may be named once")
        return sorted(months)


class SettingsView(SettingsIn):
    """The settings in force; `updated_at` is null while the tenant uses the defaults."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    updated_at: datetime | None
