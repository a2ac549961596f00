"""A tenant setting as clients read it, and its history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from harambee_common.pagination import Page


class SettingView(BaseModel):
    """One tenant setting in force (version 0 is the default)."""

    name: str
    value: dict[str, Any] | None
    version: int


class SettingChangeView(BaseModel):
    """One change to a tenant setting or coded list: the value it replaced, the new one, who and when."""

    id: uuid.UUID
    kind: Literal["setting", "vocabulary"]
    name: str
    version: int
    previous: dict[str, Any] | list[dict[str, Any]] | None
    value: dict[str, Any] | list[dict[str, Any]] | None
    changed_by: str
    changed_at: datetime


class SettingChangePage(Page[SettingChangeView]):
    """One page of a tenant's setting and list changes, newest first."""
