"""Screening decisions as screeners send them and staff read them; the timeliness report."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from harambee_intake.schema_types import Code, LongText, ShortText, Strict


class EscalationContact(Strict):
    """The tenant's designated safeguarding or law-enforcement contact for escalations."""

    name: ShortText = Field(description="e.g. County Safeguarding Lead")
    role: ShortText
    phone: Annotated[str, StringConstraints(min_length=3, max_length=50)]
    email: Annotated[str, StringConstraints(max_length=200)] | None = None
    instructions: LongText | None = None


class EscalationGrounds(StrEnum):
    crime_committed = "crime_committed"
    crime_imminent = "crime_imminent"
    risk_to_life = "risk_to_life"


class NoFurtherActionReason(StrEnum):
    malicious = "malicious"
    misguided = "misguided"
    out_of_scope = "out_of_scope"
    insufficient_information = "insufficient_information"


Note = Annotated[str, StringConstraints(min_length=1, max_length=10_000, strip_whitespace=True)]


class Escalate(Strict):
    """A crime committed or imminent, or a risk to life: hand to the designated contact now."""

    outcome: Literal["escalate"]
    grounds: EscalationGrounds
    note: Note | None = None


class Signpost(Strict):
    """A real need unrelated to radicalisation: to which service."""

    outcome: Literal["signpost"]
    service: Code = Field(description="A code from the tenant's `signpost_services` list")
    service_detail: ShortText | None = Field(default=None, description="e.g. the clinic's name")
    note: Note | None = None


class NoFurtherAction(Strict):
    """Nothing for the programme to do, and why."""

    outcome: Literal["no_further_action"]
    reason: NoFurtherActionReason
    note: Note | None = None


class Accept(Strict):
    """Accepted for information gathering and assessment."""

    outcome: Literal["accept"]
    note: Note | None = None


ScreeningIn = Annotated[Escalate | Signpost | NoFurtherAction | Accept, Field(discriminator="outcome")]


class Handoff(BaseModel):
    """Who an escalation goes to, outside the programme, now."""

    contact: EscalationContact | None
    instructions: str


class ScreeningView(BaseModel):
    """A screening decision as staff see it."""

    referral_id: uuid.UUID
    outcome: str
    reason: str | None = None
    service_detail: str | None = None
    note: str | None = None
    screened_at: datetime
    screened_by: str
    time_to_screen_seconds: int
    handoff: Handoff | None = None


class OutcomeTimeliness(BaseModel):
    """Time from receipt to screening for one outcome (or all, when outcome is null)."""

    outcome: str | None
    screened: int
    median_hours: float | None
    p90_hours: float | None


class TimelinessReport(BaseModel):
    """How quickly referrals received in a period were screened."""

    received_from: datetime
    received_to: datetime
    overall: OutcomeTimeliness
    by_outcome: list[OutcomeTimeliness]
    awaiting_screening: int
    oldest_awaiting_since: datetime | None
