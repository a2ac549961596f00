"""What partners and staff send and receive about referrals. Identity goes in, and never comes out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from harambee_common.pagination import Page
from harambee_intake.schema_types import Code, Gender, GuardianIn, LongText, ShortText, Strict
from harambee_intake.screening.schemas import ScreeningView
from harambee_intake.subjects.schemas import CandidateView, PriorReferral


class SourceType(StrEnum):
    """Who the referral came from: the national reporting categories, the same in every tenant."""

    education = "education"
    health = "health"
    social_services = "social_services"
    religious_leader = "religious_leader"
    family_or_friend = "family_or_friend"
    community = "community"
    cso = "cso"
    self_referral = "self"
    police_diversion = "police_diversion"


class PersonIn(Strict):
    """The referred person's identifying data; stored encrypted, never echoed back."""

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    other_names: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    gender: Gender | None = None
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    guardians: list[GuardianIn] = Field(default_factory=list, max_length=4)


class ReferrerIn(Strict):
    """The person who makes the referral, for the screener to follow up with."""

    role: ShortText = Field(description="e.g. class teacher, imam, community health volunteer")
    name: ShortText | None = None
    organisation: ShortText | None = Field(
        default=None, description="When the token names none, e.g. a walk-in recorded by an officer"
    )
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None


class OnlineActivityIn(Strict):
    """What the referrer has seen of the person's online activity."""

    platforms: list[Code] = Field(default_factory=list, max_length=20)
    description: LongText | None = None


class IntentToHarmIn(Strict):
    """Whether the person has expressed an intent to harm, and whom."""

    expressed: bool
    targets: list[Code] = Field(default_factory=list, max_length=10)
    description: LongText | None = None


class NeedsIn(Strict):
    """Disability or special needs the programme must accommodate."""

    codes: list[Code] = Field(default_factory=list, max_length=20)
    description: LongText | None = None


class SafeguardingIn(Strict):
    """Safeguarding concerns in the person's family and among their peers."""

    family: list[Code] = Field(default_factory=list, max_length=20)
    peers: list[Code] = Field(default_factory=list, max_length=20)
    description: LongText | None = None


class DiscussedIn(Strict):
    """What has already been discussed with the person or their guardians."""

    with_person: bool | None = None
    with_guardians: bool | None = None
    summary: LongText | None = None


class ExternalDocumentIn(Strict):
    """A document held elsewhere (attachments are not accepted): where it is, and its reference."""

    system: ShortText = Field(description="The system or register that holds the document")
    reference: ShortText
    description: ShortText | None = None


class ReferralIn(Strict):
    """A referral as a partner system or an intake officer submits it."""

    person: PersonIn
    source_type: SourceType
    concern: str = Field(min_length=1, max_length=10_000, description="How and why the concern arose")
    indicators: list[Code] = Field(
        default_factory=list, max_length=50, description="Codes from the tenant's `indicators` list"
    )
    referrer: ReferrerIn | None = None
    observed_behaviour: LongText | None = Field(
        default=None, description="What was seen or heard, in the referrer's words"
    )
    online_activity: OnlineActivityIn | None = None
    concerning_contacts: LongText | None = None
    intent_to_harm: IntentToHarmIn | None = None
    is_minor: bool | None = Field(default=None, description="Needed when date_of_birth is not known")
    needs: NeedsIn | None = None
    safeguarding: SafeguardingIn | None = None
    discussed: DiscussedIn | None = None
    referrer_fears: LongText | None = Field(default=None, description="What the referrer fears will happen")
    external_document: ExternalDocumentIn | None = None


class ReferralStatus(BaseModel):
    """What a referrer may see of its referral: null where its data-sharing agreement does not permit a field
    (or, under an agreement that requires consent, where the person has not consented)."""

    id: uuid.UUID
    status: str | None
    received_at: datetime | None


class Flag(BaseModel):
    """Something the screener must weigh, with guidance."""

    code: str
    guidance: str


class ReferralView(ReferralStatus):
    """What programme staff see: the referral and the pseudonymous subject, not the identity."""

    status: str  # staff act for the tenant: no agreement cuts their view
    received_at: datetime
    subject_ref: uuid.UUID
    version: int
    updated_at: datetime
    screener: str | None = None
    priority: str = "routine"
    organisation: str | None
    source_type: str
    concern: str
    indicators: list[str]
    flags: list[Flag] = Field(default_factory=list)
    is_minor: bool | None = None
    age_band: str | None = None
    referrer: ReferrerIn | None = None
    observed_behaviour: str | None = None
    online_activity: OnlineActivityIn | None = None
    concerning_contacts: str | None = None
    intent_to_harm: IntentToHarmIn | None = None
    needs: NeedsIn | None = None
    safeguarding: SafeguardingIn | None = None
    discussed: DiscussedIn | None = None
    referrer_fears: str | None = None
    external_document: ExternalDocumentIn | None = None
    repeat_referral: bool = False
    prior_referrals: list[PriorReferral] = Field(default_factory=list)
    duplicate_candidates: list[CandidateView] = Field(default_factory=list)
    outcome: str | None = None
    screening: ScreeningView | None = None


class ReferralPatch(Strict):
    """A change to a referral's handling; send the ETag you read as If-Match."""

    screener: ShortText | None = Field(default=None, description='An officer\'s id, "me", or null')
    priority: Literal["routine", "urgent"] | None = None


class Outcome(StrEnum):
    escalate = "escalate"
    signpost = "signpost"
    no_further_action = "no_further_action"
    accept = "accept"


class ReferralSort(StrEnum):
    received_at = "received_at"
    received_at_desc = "-received_at"
    updated_at = "updated_at"
    updated_at_desc = "-updated_at"


class ReferralPage(Page[ReferralView | ReferralStatus]):
    """One page of referrals."""
