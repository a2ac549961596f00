"""The coded lists a referral is made of."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from harambee_intake.schema_types import Code, ShortText, Strict


class VocabularyEntry(Strict):
    """One code of a list."""

    code: Code
    label: ShortText
    kind: Literal["behaviour", "belief", "context"] | None = None


class VocabularyIn(Strict):
    """A tenant's own version of one list."""

    entries: list[VocabularyEntry] = Field(min_length=1, max_length=200)


class VocabularyView(BaseModel):
    """One list in force in the tenant."""

    name: str
    entries: list[VocabularyEntry]
    version: int
    overridden: bool
