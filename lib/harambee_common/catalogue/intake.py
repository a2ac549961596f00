"""Events published on `intake.events` by the intake service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harambee_common.catalogue.base import EventData, event_type

TOPIC = "intake.events"

Outcome = Literal["escalate", "signpost", "no_further_action", "accept"]
# Coded facts about the referred person that monitoring counts by (never the date of birth itself).
AgeBand = Literal["under_15", "15_17", "18_24", "25_34", "35_plus"]
Gender = Literal["female", "male", "other", "not_stated"]
# The kinds of the tenant's indicator codes: a referral naming no behaviour is a referral for belief or context.
IndicatorKind = Literal["behaviour", "belief", "context"]
Giver = Literal["person", "parent", "guardian", "representative"]
RightsKind = Literal["access", "rectification", "erasure"]
SettingName = Literal["escalation_contact", "rights_deadlines", "retention", "matching"]
# A setting's value: numbers of days, switches, or the escalation contact's organisational details.
SettingValue = dict[str, bool | int | str | None]
# What an access export withholds unless an intake officer releases it: the referrer's identity, and other
# people (those the referrer names, the person's guardians) who did not ask for their data to be disclosed.
ThirdPartyField = Literal[
    "referrer.role", "referrer.name", "referrer.organisation", "referrer.phone", "referrer.email",
    "referred_by_organisation", "concerning_contacts", "referrer_fears", "safeguarding_description",
    "external_document", "identity.guardians",
]


class ExportField(BaseModel):
    """One field of an access export that is about someone else, by reference: never its value."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    referral_id: uuid.UUID | None
    """The referral it belongs to (none for the person's identity)."""
    field: ThirdPartyField
    """The field."""


@event_type("referral.received", topic=TOPIC)
class ReferralReceived(EventData):
    """A referral arrived; the person's identity stays sealed in intake."""

    referral_id: uuid.UUID
    """The referral."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    source_type: str
    """Who referred, as a coded source type (education, health, ...)."""
    organisation: str | None
    """The referring organisation's registry id, if it has one."""
    received_at: datetime
    """When the referral arrived."""
    repeat_referral: bool
    """Whether the referral joined a person already known: an exact blind-index match, in a tenant that links
    those at once (elsewhere the match is a duplicate candidate and this is false)."""
    age_band: AgeBand | None
    """The person's age band on the day of referral, from the date of birth (null: not known)."""
    is_minor: bool | None
    """Whether the person is under 18 (from the date of birth, or as the referrer stated it; null: not known)."""
    gender: Gender | None
    """The person's gender as recorded (null: not given)."""
    indicators: list[str]
    """The indicator codes the referral names (the tenant's `indicators` list), sorted."""
    concern_types: list[IndicatorKind]
    """The kinds of those indicators, sorted and distinct (empty: no indicator named)."""


@event_type("referral.amended", topic=TOPIC)
class ReferralAmended(EventData):
    """An intake officer changed a referral's handling (its screener or priority)."""

    referral_id: uuid.UUID
    """The referral."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    fields: list[str]
    """The names of the fields changed."""


@event_type("referral.screened", topic=TOPIC)
class ReferralScreened(EventData):
    """A referral was screened. An escalation says only that it happened: not the grounds, not to whom."""

    referral_id: uuid.UUID
    """The referral."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    outcome: Outcome
    """The screening outcome."""
    screened_at: datetime
    """When it was screened."""
    time_to_screen_seconds: int
    """Seconds from receipt to screening."""
    service: str | None = None
    """The signposted service's code (present only when signposted)."""
    reason: str | None = None
    """The no-further-action reason code (present only with that outcome)."""

    def dump(self) -> dict[str, Any]:
        """The data, with `service` and `reason` only where the outcome has one."""
        return self.model_dump(mode="json", exclude_none=True)


@event_type("referral.accepted", topic=TOPIC)
class ReferralAccepted(EventData):
    """Screening accepted a referral for information gathering and assessment: assessment opens its case."""

    referral_id: uuid.UUID
    """The referral accepted."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference (the only way other services know them)."""
    source_type: str
    """Who referred, as a coded source type (education, health, ...)."""
    organisation: str | None
    """The referring organisation's registry id, if it has one."""
    received_at: datetime
    """When the referral arrived."""
    accepted_at: datetime
    """When screening accepted it."""


@event_type("referral.minimised", topic=TOPIC)
class ReferralMinimised(EventData):
    """Retention removed what the referrer and screener wrote; the coded skeleton stays for the figures."""

    referral_id: uuid.UUID
    """The referral."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    outcome: Outcome
    """The referral's screening outcome, whose retention period ran out."""


@event_type("consent.recorded", topic=TOPIC)
class ConsentRecorded(EventData):
    """A consent was recorded: who gave it, for which purposes, until when (the recipients named stay in intake)."""

    consent_id: uuid.UUID
    """The consent record."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    given_by: Giver
    """Who gave it: the person, or a parent, guardian or representative."""
    purposes: list[str]
    """Codes of the tenant's `consent_purposes` list."""
    given_at: datetime
    """When it was given."""
    expires_at: datetime | None
    """When it lapses, if it does."""
    actor: str
    """The officer who recorded it."""
    recipient_organisations: list[str] = Field(default_factory=list)
    """The registry organisations (their ids) among the recipients it names: codes only, the recipients as
    written stay in intake. Services that disclose under an agreement with `consent_required` check these."""


@event_type("consent.withdrawn", topic=TOPIC)
class ConsentWithdrawn(EventData):
    """A consent was withdrawn: every service stops the work that depended on it."""

    consent_id: uuid.UUID
    """The consent record."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    purposes: list[str]
    """The purposes the consent covered."""
    withdrawn_at: datetime
    """When it was withdrawn."""
    withdrawn_by: Giver
    """Who withdrew it."""
    actor: str
    """The officer who recorded the withdrawal."""


@event_type("subject.merged", topic=TOPIC)
class SubjectMerged(EventData):
    """A screener decided that two subjects are one person: `merged_ref` joined `subject_ref`."""

    subject_ref: uuid.UUID
    """The subject merged into (the root of the person's tree)."""
    merged_ref: uuid.UUID
    """The subject that joined it."""
    merge_id: uuid.UUID
    """The merge record (un-merging names it)."""
    actor: str
    """The officer who merged them."""


@event_type("subject.unmerged", topic=TOPIC)
class SubjectUnmerged(EventData):
    """A merge was undone: the subject is its own person again."""

    subject_ref: uuid.UUID
    """The subject separated again."""
    unmerged_from: uuid.UUID
    """The subject it had been merged into."""
    merge_id: uuid.UUID
    """The merge undone."""
    actor: str
    """The officer who undid it."""


@event_type("duplicate_candidate.dismissed", topic=TOPIC)
class DuplicateCandidateDismissed(EventData):
    """A screener decided that a candidate is not the same person; it is not offered again."""

    subject_ref: uuid.UUID
    """The subject asked about."""
    candidate_ref: uuid.UUID
    """The candidate dismissed."""
    actor: str
    """The officer who dismissed it."""


@event_type("subject.reidentified", topic=TOPIC)
class SubjectReidentified(EventData):
    """Someone decrypted a person's identity, for a stated purpose (the stated reason stays in intake)."""

    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    reidentification_id: uuid.UUID
    """Intake's record of the re-identification."""
    purpose: str
    """The purpose code (contact_person, safeguarding, ...)."""
    actor: str
    """Who re-identified them."""


@event_type("subject.rectified", topic=TOPIC)
class SubjectRectified(EventData):
    """A person's identifying data was corrected (the names of the fields, never their values)."""

    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    fields: list[str]
    """The fields set or removed."""
    actor: str
    """The officer who corrected them."""
    request_id: uuid.UUID | None
    """The rectification request this fulfilled, if any."""


@event_type("subject.erased", topic=TOPIC)
class SubjectErased(EventData):
    """A person's data key was destroyed: every service deletes or anonymises what it holds by the reference."""

    subject_ref: uuid.UUID
    """The subject erased."""
    erased_at: datetime
    """When."""
    cause: Literal["erasure", "rights_request", "retention"]
    """Why: an officer's erasure, a rights request, or the retention policy."""
    actor: str
    """Who erased them (`retention-scheduler` for the schedule)."""


class _Transfer(EventData):
    """References of a person's move to another county, as assessment's accepted transfer named them."""

    # `from` is a Python keyword: the field travels under that name all the same.
    model_config = ConfigDict(populate_by_name=True)

    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference (it stays the same in the receiving county)."""
    subject_refs: list[uuid.UUID]
    """Every subject moved: the person's, and any merged into it."""
    transfer_id: uuid.UUID
    """Assessment's case transfer."""
    case_id: uuid.UUID
    """The sending county's case."""
    received_case_id: uuid.UUID
    """The receiving county's case."""
    from_tenant: str = Field(alias="from")
    """The sending county."""
    to: str
    """The receiving county."""

    def dump(self) -> dict[str, Any]:
        """The data, under the names it travels with (`from`)."""
        return self.model_dump(mode="json", by_alias=True)


@event_type("subject.released", topic=TOPIC)
class SubjectReleased(_Transfer):
    """The sending county gave a person's identity to the receiving county and minimised its own records."""

    referral_ids: list[uuid.UUID]
    """The sending county's referrals about the person, now minimised."""
    minimised_at: datetime
    """When they were minimised."""


@event_type("subject.rekeyed", topic=TOPIC)
class SubjectRekeyed(_Transfer):
    """The receiving county took a person over: their data key is now wrapped under its tenant key."""

    key_generation: int
    """The receiving tenant key's generation."""
    kek_id: str
    """The key-encryption key's non-secret id."""
    agreement_id: uuid.UUID
    """The sending county's agreement the move was made under."""
    agreement_version: int
    """That agreement's version."""


@event_type("tenant_key.rotated", topic=TOPIC)
class TenantKeyRotated(EventData):
    """One step of a tenant key rotation: data keys re-wrapped under a new generation, fields untouched."""

    generation: int
    """The tenant key generation new wraps use."""
    kek_id: str
    """The key-encryption key's non-secret id."""
    started: bool
    """Whether this call started the rotation (rather than continued one)."""
    rewrapped: int
    """Data keys re-wrapped by this call."""
    remaining: int
    """Data keys still wrapped by an older generation."""
    actor: str
    """The officer who rotated it."""
    destroyed_generations: list[int] = Field(default_factory=list)
    """Older generations of the tenant key destroyed by this call (it found nothing left to re-wrap)."""


@event_type("rights_request.received", topic=TOPIC)
class RightsRequestReceived(EventData):
    """A rights request by or for the person was recorded, with its statutory due date."""

    request_id: uuid.UUID
    """The request."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    kind: RightsKind
    """What the person asks for."""
    due_at: datetime
    """When the answer is due."""
    actor: str
    """The officer who recorded it."""


@event_type("rights_request.processed", topic=TOPIC)
class RightsRequestProcessed(EventData):
    """An access request's data was gathered: complete, or with the services whose part is missing."""

    request_id: uuid.UUID
    """The request."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    kind: Literal["access"]
    """Only access requests are gathered."""
    complete: bool
    """Whether every service's part is in (the request is then fulfilled)."""
    missing: list[str]
    """The services whose part is missing."""
    actor: str
    """The officer who gathered it."""
    export_id: uuid.UUID
    """Intake's record of the export given (who made it, what it released and withheld)."""
    released: list[ExportField]
    """Fields about the referrer or third parties an officer released into this export (the reason stays
    sealed in intake)."""
    withheld: list[ExportField]
    """Fields about the referrer or third parties held and withheld from this export."""


@event_type("rights_request.closed", topic=TOPIC)
class RightsRequestClosed(EventData):
    """A rights request was closed by hand: refused, or fulfilled outside the system."""

    request_id: uuid.UUID
    """The request."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    kind: RightsKind
    """What the person asked for."""
    outcome: Literal["fulfilled", "refused"]
    """How it was closed (the stated reason stays in intake)."""
    actor: str
    """The officer who closed it."""


@event_type("retention.applied", topic=TOPIC)
class RetentionApplied(EventData):
    """A retention run in a tenant: what it minimised and erased."""

    run_id: uuid.UUID
    """Intake's record of the run."""
    referrals_minimised: dict[str, int]
    """Referrals minimised, per screening outcome."""
    subjects_erased: int
    """People erased because nothing kept them any more."""
    subjects_awaiting_duplicate_decision: int = 0
    """People who would have been erased but wait for an officer's decision on an exact-match candidate."""
    idempotency_keys_purged: int
    """Idempotency keys forgotten."""
    more_remaining: bool
    """Whether the run stopped at its bound with more to do."""


@event_type("tenant_setting.changed", topic=TOPIC)
class TenantSettingChanged(EventData):
    """An intake officer replaced a tenant setting: the value before and the new one (codes and settings only)."""

    # Settings are the programme's own: days, switches, and the escalation contact (an office or post, not a
    # referred person). The escalation contact's free-text `instructions` are kept in intake's history only.

    change_id: uuid.UUID
    """Intake's record of the change (`GET .../settings/history`)."""
    name: SettingName
    """The setting."""
    version: int
    """The setting's new version (the default is version 0)."""
    previous: SettingValue | None
    """The value in force before, the default included (null: none was set)."""
    value: SettingValue
    """The new value."""
    actor: str
    """The officer who changed it."""


@event_type("vocabulary.replaced", topic=TOPIC)
class VocabularyReplaced(EventData):
    """An intake officer replaced one of the tenant's coded lists: the codes before and after."""

    change_id: uuid.UUID
    """Intake's record of the change (`GET .../settings/history`), which keeps the labels too."""
    name: str
    """The list (indicators, consent_purposes, ...)."""
    version: int
    """The list's new version (the default set is version 0)."""
    previous_codes: list[str]
    """The codes in force before."""
    codes: list[str]
    """The codes in force now."""
    actor: str
    """The officer who replaced it."""
