"""Intake's tables. Identifying fields and free text are stored only as ciphertext (see vault.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Timestamp = sa.DateTime(timezone=True)
# What is sealed under a person's key. None is SQL NULL (not JSON null): "nothing sealed here", one meaning
# for every writer, whether it clears the field by the ORM or by an UPDATE.
Sealed = JSONB(none_as_null=True)


class Base(DeclarativeBase):
    pass


class Subject(Base):
    """A referred person: a pseudonymous reference plus their encrypted identity."""

    __tablename__ = "subjects"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text, index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # None once erased
    identity: Mapped[dict[str, str]] = mapped_column(JSONB)  # field name -> base64 ciphertext
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=sa.func.now())
    key_generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    kek_id: Mapped[str | None] = mapped_column(sa.Text)
    merged_into: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("subjects.id"))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    erased_at: Mapped[datetime | None] = mapped_column(Timestamp)
    erased_by: Mapped[str | None] = mapped_column(sa.Text)
    erasure_reason: Mapped[str | None] = mapped_column(sa.Text)  # the stated reason, kept for accountability


class Referral(Base):
    """A concern about a person, submitted by a partner organisation or programme staff.

    Coded choices are plain columns (they are what screening, lists and reports work on); the
    referrer's words, and the person as the referrer described them, are sealed under the
    person's data key, so erasing the person erases them too.
    """

    __tablename__ = "referrals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"))
    organisation: Mapped[str | None] = mapped_column(sa.Text)
    submitted_by: Mapped[str] = mapped_column(sa.Text)
    source_type: Mapped[str] = mapped_column(sa.Text)
    concern: Mapped[str | None] = mapped_column(sa.Text)  # only referrals stored before 0002
    indicators: Mapped[list[str]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(Timestamp)
    coded: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    flags: Mapped[list[str]] = mapped_column(JSONB, default=list)
    is_minor: Mapped[bool | None] = mapped_column(sa.Boolean)
    age_band: Mapped[str | None] = mapped_column(sa.Text)
    sealed: Mapped[dict[str, str] | None] = mapped_column(Sealed)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    screener: Mapped[str | None] = mapped_column(sa.Text)
    priority: Mapped[str] = mapped_column(sa.Text, default="routine")
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    screened_at: Mapped[datetime | None] = mapped_column(Timestamp)
    screened_by: Mapped[str | None] = mapped_column(sa.Text)
    screening_seconds: Mapped[int | None] = mapped_column(sa.Integer)
    minimised_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (sa.Index("referrals_tenant_received", "tenant_id", "received_at", "id"),)

    @property
    def partner_status(self) -> str:
        """What the referring partner sees: received, under_consideration or closed, nothing more."""
        if self.status == "received":
            return "received"
        if self.status == "screening" or self.outcome == "accept":
            return "under_consideration"
        return "closed"

    def touch(self) -> None:
        """Marks a change: a new version, so that stale If-Match headers fail."""
        self.version += 1
        self.updated_at = datetime.now(UTC)


class Vocabulary(Base):
    """A tenant's own version of one coded list, replacing the default of that name."""

    __tablename__ = "vocabularies"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(sa.Integer)
    updated_by: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class IdempotencyKey(Base):
    """A client's Idempotency-Key and the response its first request got."""

    __tablename__ = "idempotency_keys"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(sa.LargeBinary)
    status: Mapped[int | None] = mapped_column(sa.Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    location: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=sa.func.now())


class TenantKey(Base):
    """The generation of the tenant key that new wraps use (and rotation re-wraps to)."""

    __tablename__ = "tenant_keys"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    generation: Mapped[int] = mapped_column(sa.Integer)
    kek_id: Mapped[str] = mapped_column(sa.Text)
    rotated_by: Mapped[str] = mapped_column(sa.Text)
    rotated_at: Mapped[datetime] = mapped_column(Timestamp)


class TenantKeyMaterial(Base):
    """One generation of a tenant's key: 32 random bytes wrapped by the KEK (see tenant_keys.py)."""

    __tablename__ = "tenant_key_material"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    generation: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # None once destroyed
    kek_id: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    destroyed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class SubjectIndex(Base):
    """One blind-index value of a subject (see matching.py)."""

    __tablename__ = "subject_index"

    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    digest: Mapped[bytes] = mapped_column(sa.LargeBinary, primary_key=True)


class DuplicateCandidate(Base):
    """Another subject that may be the same person, for a screener to merge or dismiss."""

    __tablename__ = "duplicate_candidates"

    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"), primary_key=True)
    candidate_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"), primary_key=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"))
    score: Mapped[int] = mapped_column(sa.Integer)
    signals: Mapped[list[str]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(sa.Text, default="open")  # open, dismissed, merged
    found_at: Mapped[datetime] = mapped_column(Timestamp)
    decided_by: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[datetime | None] = mapped_column(Timestamp)


class SubjectMerge(Base):
    """A screener's decision that two subjects are one person; un-merging closes it."""

    __tablename__ = "subject_merges"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    source_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"))
    target_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"))
    # In clear only as versions before 0017 left it; the reasons are in `sealed` (merge_reason, unmerge_reason).
    reason: Mapped[str | None] = mapped_column(sa.Text)
    merged_by: Mapped[str] = mapped_column(sa.Text)
    merged_at: Mapped[datetime] = mapped_column(Timestamp)
    unmerge_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Sealed under the merged (source) subject's key: gone with the person's key when they are erased.
    sealed: Mapped[dict[str, str] | None] = mapped_column(Sealed)
    unmerged_by: Mapped[str | None] = mapped_column(sa.Text)
    unmerged_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Reidentification(Base):
    """Who decrypted whose identity, when, why."""

    __tablename__ = "reidentifications"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"))
    actor: Mapped[str] = mapped_column(sa.Text)
    client_id: Mapped[str] = mapped_column(sa.Text)
    purpose: Mapped[str] = mapped_column(sa.Text)
    # In clear only as versions before 0017 left it; the reason is sealed under the person's key.
    reason: Mapped[str | None] = mapped_column(sa.Text)
    sealed: Mapped[dict[str, str] | None] = mapped_column(Sealed)
    at: Mapped[datetime] = mapped_column(Timestamp)


class Screening(Base):
    """A screening decision: the outcome, its required reason, and any hand-off."""

    __tablename__ = "screenings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"))
    outcome: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)  # a code: grounds, service or NFA reason
    sealed: Mapped[dict[str, str] | None] = mapped_column(Sealed)  # the screener's words, under the person's key
    handoff: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    decided_by: Mapped[str] = mapped_column(sa.Text)
    decided_at: Mapped[datetime] = mapped_column(Timestamp)


class TenantSetting(Base):
    """One of a tenant's settings (escalation contact, retention periods, rights deadlines)."""

    __tablename__ = "tenant_settings"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(sa.Integer)
    updated_by: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class WebhookSubscription(Base):
    """A partner system's endpoint for status changes of its organisation's referrals."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    organisation: Mapped[str] = mapped_column(sa.Text)
    url: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    wrapped_secret: Mapped[bytes] = mapped_column(sa.LargeBinary)  # sealed by the tenant key
    key_generation: Mapped[int] = mapped_column(sa.Integer)
    kek_id: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    disabled_at: Mapped[datetime | None] = mapped_column(Timestamp)


class WebhookDelivery(Base):
    """One event for one subscription, delivered (or retried) by the background dispatcher."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subscription_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("webhook_subscriptions.id"))
    event_type: Mapped[str] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(sa.Text)  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(Timestamp)
    leased_until: Mapped[datetime | None] = mapped_column(Timestamp)
    last_status: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    delivered_at: Mapped[datetime | None] = mapped_column(Timestamp)


class WebhookAttempt(Base):
    """One try at delivering, as the partner's delivery log shows it."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    delivery_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("webhook_deliveries.id"))
    attempt: Mapped[int] = mapped_column(sa.Integer)
    at: Mapped[datetime] = mapped_column(Timestamp)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.Text)
    duration_ms: Mapped[int] = mapped_column(sa.Integer)


class Consent(Base):
    """A person's (or, for a minor, a parent's or guardian's) consent, and its withdrawal."""

    __tablename__ = "consents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"))
    given_by: Mapped[str] = mapped_column(sa.Text)  # person, parent, guardian, representative
    purposes: Mapped[list[str]] = mapped_column(JSONB)
    recipients: Mapped[list[str]] = mapped_column(JSONB)
    method: Mapped[str] = mapped_column(sa.Text)
    given_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp)
    sealed: Mapped[dict[str, str] | None] = mapped_column(Sealed)  # giver's name, evidence, notes
    recorded_by: Mapped[str] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(Timestamp)
    withdrawn_at: Mapped[datetime | None] = mapped_column(Timestamp)
    withdrawn_by: Mapped[str | None] = mapped_column(sa.Text)
    withdrawal_method: Mapped[str | None] = mapped_column(sa.Text)
    withdrawal_recorded_by: Mapped[str | None] = mapped_column(sa.Text)

    def state(self, at: datetime) -> str:
        """active, expired or withdrawn, at a time."""
        if self.withdrawn_at is not None:
            return "withdrawn"
        if self.expires_at is not None and self.expires_at <= at:
            return "expired"
        return "active"


class RightsRequest(Base):
    """A data subject's request (access, rectification, erasure), tracked against its due date."""

    __tablename__ = "rights_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"))
    kind: Mapped[str] = mapped_column(sa.Text)  # access, rectification, erasure
    requested_by: Mapped[str] = mapped_column(sa.Text)  # person, parent, guardian, representative
    received_at: Mapped[datetime] = mapped_column(Timestamp)
    due_at: Mapped[datetime] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(sa.Text)  # open, fulfilled, refused
    sealed: Mapped[dict[str, str] | None] = mapped_column(Sealed)  # the request's note, why it was closed
    gaps: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)  # parts not gathered, and why
    last_attempt_at: Mapped[datetime | None] = mapped_column(Timestamp)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    closed_by: Mapped[str | None] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)


class AccessExport(Base):
    """One access export given to a person: who made it, and what about others it released or withheld."""

    __tablename__ = "access_exports"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    request_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rights_requests.id"))
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"))
    generated_at: Mapped[datetime] = mapped_column(Timestamp)
    generated_by: Mapped[str] = mapped_column(sa.Text)
    released: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # {referral_id, field}: references only
    withheld: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    sealed: Mapped[dict[str, str] | None] = mapped_column(Sealed)  # why the officer released what they did


class SettingChange(Base):
    """A change to a tenant setting or coded list, with the value it replaced."""

    __tablename__ = "setting_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)  # setting or vocabulary
    name: Mapped[str] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer)
    previous: Mapped[Any] = mapped_column(JSONB(none_as_null=True))  # None: the default was in force
    value: Mapped[Any] = mapped_column(JSONB(none_as_null=True))
    changed_by: Mapped[str] = mapped_column(sa.Text)
    changed_at: Mapped[datetime] = mapped_column(Timestamp)


class RetentionRun(Base):
    """What one run of the retention job did in a tenant."""

    __tablename__ = "retention_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    ran_at: Mapped[datetime] = mapped_column(Timestamp)
    ran_by: Mapped[str] = mapped_column(sa.Text)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB)
