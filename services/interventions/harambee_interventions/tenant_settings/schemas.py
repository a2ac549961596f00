"""What the settings' clients send and receive."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harambee_common.pagination import Page
from harambee_interventions.tenant_settings.history import Kind


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


class SettingChangeView(BaseModel):
    """One change to the tenant's settings or to a type of its catalogue: the value it replaced, the new one."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: Kind
    name: str
    """`intervention-settings`, or the catalogue type's code."""
    previous: dict[str, Any] | None
    """The value in force before (the defaults included; null: a type the tenant added)."""
    value: dict[str, Any]
    changed_by: str
    changed_at: datetime


class SettingChangePage(Page[SettingChangeView]):
    """One page of the tenant's setting and catalogue changes, newest first."""
