"""What framework clients send and receive."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from harambee_assessment.frameworks.definition import FrameworkDefinition
from harambee_common.pagination import Page

FrameworkCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,62}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class FrameworkCreate(BaseModel):
    """A new framework, with the content of its first (draft) version."""

    model_config = ConfigDict(extra="forbid")

    code: FrameworkCode
    title: Title
    definition: FrameworkDefinition


class VersionContent(BaseModel):
    """The content of a draft version."""

    model_config = ConfigDict(extra="forbid")

    definition: FrameworkDefinition


class VersionView(BaseModel):
    """One version of a framework; a published one never changes."""

    model_config = ConfigDict(from_attributes=True)

    framework_id: uuid.UUID
    version: int
    status: Literal["draft", "published"]
    definition: FrameworkDefinition
    created_by: str
    created_at: datetime
    published_at: datetime | None


class FrameworkView(BaseModel):
    """A framework and its versions' numbers."""

    id: uuid.UUID
    code: str
    title: str
    created_at: datetime
    versions: list[int]
    latest_published: int | None


class FrameworkPage(Page[FrameworkView]):
    """One page of frameworks."""


class VersionList(BaseModel):
    """Every version of one framework, oldest first."""

    items: list[VersionView]
