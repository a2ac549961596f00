"""The constrained types and the strict base model every concept's schemas are built from."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=10_000, strip_whitespace=True)]
Reason = Annotated[str, StringConstraints(min_length=10, max_length=2000, strip_whitespace=True)]
Giver = Literal["person", "parent", "guardian", "representative"]
Method = Literal["written", "verbal", "digital"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Gender(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    not_stated = "not_stated"


class GuardianIn(Strict):
    """A parent or guardian of the referred person."""

    name: ShortText
    relationship: ShortText
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None


class ReasonIn(Strict):
    """Why the operation is done; recorded with it."""

    reason: Reason


def aware(at: datetime | None) -> datetime | None:
    """A time a client sent; one without a zone is taken as UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def age_on(born: date, day: date) -> int:
    """A person's age in whole years on a day."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

