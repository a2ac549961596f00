"""A tenant setting as clients read it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class SettingView(BaseModel):
    """One tenant setting in force (version 0 is the default)."""

    name: str
    value: dict[str, Any] | None
    version: int
