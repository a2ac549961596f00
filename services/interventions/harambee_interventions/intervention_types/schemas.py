"""What the catalogue's clients send and receive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, StringConstraints

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,62}$"
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
CodePath = Annotated[str, Path(pattern=CODE_PATTERN, description="The type's code")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class InterventionTypeIn(BaseModel):
    """A type to add to the tenant's catalogue, or its new wording; `active: false` retires it."""

    model_config = ConfigDict(extra="forbid")

    label: Label
    description: Description | None = None
    active: bool = True


class InterventionTypeView(BaseModel):
    """One intervention type of the tenant's catalogue."""

    code: str
    label: str
    description: str | None
    active: bool
    edited: bool
    """Whether the tenant changed (or added) it; false: the default as shipped."""
    updated_at: datetime | None


class InterventionTypeList(BaseModel):
    """The tenant's catalogue (a short list, whole)."""

    items: list[InterventionTypeView]
