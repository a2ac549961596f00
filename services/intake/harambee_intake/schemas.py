"""What clients send and receive. Identity goes in, and never comes out of these views."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=10_000, strip_whitespace=True)]


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


class Gender(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    not_stated = "not_stated"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GuardianIn(Strict):
    """A parent or guardian of the referred person."""

    name: ShortText
    relationship: ShortText
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None


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
    """What a referrer may see of its referral."""

    id: uuid.UUID
    status: str
    received_at: datetime


class Flag(BaseModel):
    """Something the screener must weigh, with guidance."""

    code: str
    guidance: str


class PriorReferral(BaseModel):
    """Another referral of the same person, as a screener sees it."""

    id: uuid.UUID
    received_at: datetime
    status: str
    outcome: str | None = None
    source_type: str
    organisation: str | None


class CandidateView(BaseModel):
    """A subject that may be the same person (never merged without a screener's decision)."""

    subject_ref: uuid.UUID
    score: int
    signals: list[str] = Field(description="Which blind indexes matched, e.g. phonetic_dob, phone")
    referrals: int
    statuses: list[str]
    outcomes: list[str] = Field(default_factory=list)


class ReferralView(ReferralStatus):
    """What programme staff see: the referral and the pseudonymous subject, not the identity."""

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


class ReferralPage(BaseModel):
    """One page of referrals."""

    items: list[ReferralView | ReferralStatus]
    next_cursor: str | None


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


class SubjectView(BaseModel):
    """A person as a pseudonymous subject: the referrals and candidates, never the identity."""

    subject_ref: uuid.UUID
    merged_subjects: list[uuid.UUID]
    referrals: list[PriorReferral]
    duplicate_candidates: list[CandidateView]


Reason = Annotated[str, StringConstraints(min_length=10, max_length=2000, strip_whitespace=True)]


class MergeIn(Strict):
    """Two subjects are one person: this one joins `into`."""

    into: uuid.UUID
    reason: Reason


class ReasonIn(Strict):
    """Why the operation is done; recorded with it."""

    reason: Reason


class ReidentificationPurpose(StrEnum):
    contact_person = "contact_person"
    safeguarding = "safeguarding"
    duplicate_review = "duplicate_review"
    rights_request = "rights_request"
    rectification = "rectification"


class ReidentificationIn(Strict):
    """Why an identity is needed in clear."""

    purpose: ReidentificationPurpose
    reason: Reason


class IdentityView(BaseModel):
    """A subject's identity, decrypted for an audited reason."""

    subject_ref: uuid.UUID
    reidentification_id: uuid.UUID
    identity: dict[str, Any]
    as_referred: list[dict[str, Any]] = Field(description="The person as each referral described them")


class RotationView(BaseModel):
    """Progress of a tenant key rotation: call again while `remaining` is above zero."""

    generation: int
    kek_id: str
    started: bool
    rewrapped: int
    remaining: int


class EscalationContact(Strict):
    """The tenant's designated safeguarding or law-enforcement contact for escalations."""

    name: ShortText = Field(description="e.g. County Safeguarding Lead")
    role: ShortText
    phone: Annotated[str, StringConstraints(min_length=3, max_length=50)]
    email: Annotated[str, StringConstraints(max_length=200)] | None = None
    instructions: LongText | None = None


class SettingView(BaseModel):
    """One tenant setting in force (version 0 is the default)."""

    name: str
    value: dict[str, Any] | None
    version: int


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


ReferralView.model_rebuild()


class WebhookIn(Strict):
    """An endpoint of a partner system for status changes of its organisation's referrals."""

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)] = Field(
        description="An https URL (no credentials in it)")
    description: ShortText | None = None


class WebhookView(BaseModel):
    """A webhook subscription."""

    id: uuid.UUID
    url: str
    description: str | None
    events: list[str]
    active: bool
    created_at: datetime


SIGNATURE_SCHEME = (
    "Each delivery is a POST with headers Harambee-Webhook-Id, Harambee-Webhook-Timestamp (unix seconds) "
    "and Harambee-Webhook-Signature: v1=<hex HMAC-SHA256 keyed with the secret (UTF-8) over "
    "'<timestamp>.' followed by the raw body>. Compare in constant time; reject timestamps more than "
    "300 seconds from your clock; de-duplicate on Harambee-Webhook-Id."
)


class WebhookCreated(WebhookView):
    """A new subscription, with its signing secret: shown this once, store it safely."""

    secret: str
    signature_scheme: str = SIGNATURE_SCHEME


class AttemptView(BaseModel):
    """One delivery attempt."""

    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryView(BaseModel):
    """A delivery and its attempts."""

    id: uuid.UUID
    event_type: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    payload: dict[str, Any]
    attempt_log: list[AttemptView]


class DeliveryPage(BaseModel):
    """One page of a webhook's delivery log, newest first."""

    items: list[DeliveryView]
    next_cursor: str | None


Giver = Literal["person", "parent", "guardian", "representative"]
Method = Literal["written", "verbal", "digital"]


class ConsentIn(Strict):
    """Consent as it was given: express, specific (purposes, recipients), informed, provable."""

    given_by: Giver = Field(description="A parent or guardian for a minor")
    giver_name: ShortText | None = Field(default=None, description="Required unless given by the person")
    purposes: list[Code] = Field(min_length=1, max_length=20, description="Codes of `consent_purposes`")
    recipients: list[ShortText] = Field(min_length=1, max_length=50,
                                        description="Who may receive the data: organisations or services")
    method: Method
    given_at: datetime
    expires_at: datetime | None = None
    evidence: LongText = Field(description="How it is evidenced, e.g. signed form reference, witness")
    note: LongText | None = None


class ConsentView(BaseModel):
    """A consent record."""

    id: uuid.UUID
    subject_ref: uuid.UUID
    state: Literal["active", "expired", "withdrawn"]
    given_by: str
    giver_name: str | None
    purposes: list[str]
    recipients: list[str]
    method: str
    given_at: datetime
    expires_at: datetime | None
    evidence: str | None
    note: str | None
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdrawal_method: str | None


class WithdrawalIn(Strict):
    """Consent withdrawn: by whom and how."""

    withdrawn_by: Giver
    method: Method
    note: LongText | None = None


class RightsDeadlines(Strict):
    """Days the tenant gives itself to answer each kind of request (Kenya: 7 days by regulation)."""

    access_days: int = Field(default=7, ge=1, le=90)
    rectification_days: int = Field(default=7, ge=1, le=90)
    erasure_days: int = Field(default=7, ge=1, le=90)


class RetentionPolicy(Strict):
    """Days after screening before a referral with each outcome is minimised (null: kept)."""

    no_further_action_days: int | None = Field(default=90, ge=1, le=3650)
    signpost_days: int | None = Field(default=180, ge=1, le=3650)
    escalate_days: int | None = Field(default=None, ge=1, le=3650)


class RightsRequestIn(Strict):
    """A request by or for the person, as the programme received it."""

    kind: Literal["access", "rectification", "erasure"]
    requested_by: Giver
    received_at: datetime | None = Field(default=None, description="Defaults to now")
    note: LongText | None = None


class RightsRequestView(BaseModel):
    """A tracked rights request."""

    id: uuid.UUID
    subject_ref: uuid.UUID
    kind: str
    requested_by: str
    received_at: datetime
    due_at: datetime
    overdue: bool
    status: str
    outcome: str | None
    gaps: list[dict[str, Any]]
    last_attempt_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    recorded_by: str


class RightsRequestPage(BaseModel):
    """One page of rights requests, soonest due first."""

    items: list[RightsRequestView]
    next_cursor: str | None


class AccessFulfilment(BaseModel):
    """The person's data, gathered: `complete` is false while another service's part is missing."""

    request: RightsRequestView
    complete: bool
    document: dict[str, Any]


class ClosureIn(Strict):
    """Closing a request by hand: refused (with the reason) or fulfilled outside the system."""

    outcome: Literal["fulfilled", "refused"]
    reason: Reason


class IdentityChanges(Strict):
    """Corrections to identifying data."""

    given_name: str | None = Field(default=None, min_length=1, max_length=200)
    family_name: str | None = Field(default=None, min_length=1, max_length=200)
    other_names: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    gender: Gender | None = None
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    guardians: list[GuardianIn] | None = Field(default=None, max_length=4)


class RectificationIn(Strict):
    """A rectification: fields to set, fields to remove, and why."""

    set: IdentityChanges = Field(default_factory=IdentityChanges)
    remove: list[Literal["other_names", "date_of_birth", "gender", "phone", "email", "address",
                         "guardians"]] = Field(default_factory=list)
    reason: Reason
    rights_request_id: uuid.UUID | None = None


class RectificationView(BaseModel):
    """What a rectification changed (names of fields, not their values)."""

    subject_ref: uuid.UUID
    version: int
    changed: list[str]


class ErasureIn(Strict):
    """Erasure of a person: their data key is destroyed."""

    reason: Reason
    rights_request_id: uuid.UUID | None = None


class ErasureView(BaseModel):
    """What an erasure did."""

    subject_ref: uuid.UUID
    erased_subjects: list[uuid.UUID]
    erased_at: datetime
    cleared: dict[str, int]


class RetentionRunView(BaseModel):
    """What a retention run did."""

    id: uuid.UUID
    ran_at: datetime
    ran_by: str
    report: dict[str, Any]
