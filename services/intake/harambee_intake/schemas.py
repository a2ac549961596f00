"""What clients send and receive. Identity goes in, and never comes out of these views."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SourceType(StrEnum):
    education = "education"
    health = "health"
    social_services = "social_services"
    religious_leader = "religious_leader"
    family_or_friend = "family_or_friend"
    community = "community"
    cso = "cso"
    self_referral = "self"
    police_diversion = "police_diversion"


class PersonIn(BaseModel):
    """The referred person's identifying data; stored encrypted, never echoed back."""

    model_config = ConfigDict(extra="forbid")

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date | None = None
    phone: str | None = Field(default=None, max_length=50)


class ReferralIn(BaseModel):
    """A referral as a partner system or an intake officer submits it."""

    model_config = ConfigDict(extra="forbid")

    person: PersonIn
    source_type: SourceType
    concern: str = Field(min_length=1, max_length=10_000, description="How and why the concern arose")
    indicators: list[str] = Field(default_factory=list, max_length=50)


class ReferralStatus(BaseModel):
    """What a referrer may see of its referral."""

    id: uuid.UUID
    status: str
    received_at: datetime


class ReferralView(ReferralStatus):
    """What programme staff see: the referral and the pseudonymous subject, not the identity."""

    subject_ref: uuid.UUID
    organisation: str | None
    source_type: str
    concern: str
    indicators: list[str]


class ReferralPage(BaseModel):
    """One page of referrals."""

    items: list[ReferralView | ReferralStatus]
    next_cursor: str | None
