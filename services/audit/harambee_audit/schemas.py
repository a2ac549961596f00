"""What the compliance API returns."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from harambee_audit.emergency import QueueItem, QueuePage
from harambee_audit.models import Checkpoint, Entry, ReadAlert
from harambee_audit.read_volume import AlertPage
from harambee_audit.service import ConsistencyProof, EntryPage, InclusionProof
from harambee_audit.signing import VerifierKey
from harambee_common.pagination import Page


class EntryOut(BaseModel):
    """One log entry. A national officer is shown only the fields its agreement names: the others are null."""

    seq: int
    event_id: str | None
    time: datetime | None
    recorded_at: datetime | None
    type: str | None
    source: str | None
    subject: str | None
    actor: str | None
    client_id: str | None
    agreement: str | None
    purpose: str | None
    data: dict[str, Any] | None
    leaf_hash: str | None

    @classmethod
    def of(cls, entry: Entry) -> EntryOut:
        """The entry as the API shows it."""
        return cls(
            seq=entry.seq,
            event_id=entry.event_id,
            time=entry.time,
            recorded_at=entry.recorded_at,
            type=entry.type,
            source=entry.source,
            subject=entry.subject,
            actor=entry.actor,
            client_id=entry.client_id,
            agreement=entry.agreement,
            purpose=entry.purpose,
            data=entry.data,
            leaf_hash=entry.leaf_hash.hex(),
        )


class EntryPageOut(Page[EntryOut]):
    """A page of entries; pass next_cursor back as cursor for the next one."""

    total: int

    @classmethod
    def of(cls, page: EntryPage) -> EntryPageOut:
        """The page as the API shows it."""
        return cls(items=[EntryOut.of(e) for e in page.items], next_cursor=page.next_cursor, total=page.total)


class CheckpointOut(BaseModel):
    """A signed checkpoint; the note is what the signature covers."""

    tree_size: int
    root_hash: str
    signed_at: datetime
    key_id: str
    note: str

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> CheckpointOut:
        """The checkpoint as the API shows it."""
        return cls(
            tree_size=checkpoint.tree_size,
            root_hash=checkpoint.root_hash.hex(),
            signed_at=checkpoint.signed_at,
            key_id=checkpoint.key_id,
            note=checkpoint.note,
        )


class CheckpointPageOut(Page[CheckpointOut]):
    """A page of checkpoints in order of size."""


class InclusionProofOut(BaseModel):
    """RFC 9162 audit path from an entry's leaf to a checkpoint's root."""

    seq: int
    leaf_hash: str
    tree_size: int
    root_hash: str
    hashes: list[str]
    checkpoint: CheckpointOut

    @classmethod
    def of(cls, proof: InclusionProof) -> InclusionProofOut:
        """The proof as the API shows it."""
        return cls(
            seq=proof.entry.seq,
            leaf_hash=proof.entry.leaf_hash.hex(),
            tree_size=proof.checkpoint.tree_size,
            root_hash=proof.checkpoint.root_hash.hex(),
            hashes=[h.hex() for h in proof.hashes],
            checkpoint=CheckpointOut.of(proof.checkpoint),
        )


class ConsistencyProofOut(BaseModel):
    """RFC 9162 consistency proof between two checkpoints."""

    first: CheckpointOut
    second: CheckpointOut
    hashes: list[str]

    @classmethod
    def of(cls, proof: ConsistencyProof) -> ConsistencyProofOut:
        """The proof as the API shows it."""
        return cls(
            first=CheckpointOut.of(proof.first),
            second=CheckpointOut.of(proof.second),
            hashes=[h.hex() for h in proof.hashes],
        )


class SigningKeyOut(BaseModel):
    """A checkpoint-signing public key, to pin out of band."""

    key_id: str
    name: str
    algorithm: Literal["Ed25519"] = "Ed25519"
    status: Literal["active", "retired"]
    public_key_pem: str
    note_key: str

    @classmethod
    def of(cls, key: VerifierKey, *, status: Literal["active", "retired"]) -> SigningKeyOut:
        """The key as the API shows it."""
        return cls(
            key_id=key.key_id, name=key.name, status=status, public_key_pem=key.pem, note_key=key.note_key
        )


class SigningKeysOut(BaseModel):
    """Every key that signed or signs checkpoints."""

    keys: list[SigningKeyOut]


class ReviewIn(BaseModel):
    """A compliance officer's decision on an emergency access; the note becomes part of the permanent log."""

    decision: Literal["signed_off", "flagged"]
    note: str = Field(
        min_length=1, max_length=2000, description="why: references only, never names or contact details"
    )


class ReviewOut(BaseModel):
    """The decision on an emergency access, and the log entry that records it."""

    decision: str
    note: str
    reviewed_by: str
    reviewed_at: datetime
    log_seq: int


class EmergencyAccessOut(BaseModel):
    """An access made under an emergency reason: its reason, its age, and the decision once there is one."""

    seq: int
    event_id: str
    subject: str
    actor: str | None
    client_id: str | None
    reason: str | None
    accessed_at: datetime
    queued_at: datetime
    age_hours: float
    overdue: bool
    status: Literal["pending", "signed_off", "flagged"]
    review: ReviewOut | None

    @classmethod
    def of(cls, item: QueueItem) -> EmergencyAccessOut:
        """The queue item as the API shows it."""
        access, review = item.access, item.review
        return cls(
            seq=access.seq,
            event_id=access.event_id,
            subject=access.subject,
            actor=access.actor,
            client_id=access.client_id,
            reason=access.reason,
            accessed_at=access.accessed_at,
            queued_at=access.queued_at,
            age_hours=item.age_hours,
            overdue=item.overdue,
            status=item.status,
            review=None if review is None else ReviewOut(
                decision=review.decision,
                note=review.note,
                reviewed_by=review.reviewed_by,
                reviewed_at=review.reviewed_at,
                log_seq=review.log_seq,
            ),
        )


class EmergencyQueueOut(Page[EmergencyAccessOut]):
    """A page of the break-the-glass queue, oldest first; `overdue` counts every pending item past the deadline."""

    total: int
    overdue: int
    overdue_after_hours: float

    @classmethod
    def of(cls, page: QueuePage) -> EmergencyQueueOut:
        """The page as the API shows it."""
        return cls(
            items=[EmergencyAccessOut.of(i) for i in page.items],
            next_cursor=page.next_cursor,
            total=page.total,
            overdue=page.overdue,
            overdue_after_hours=page.overdue_after_hours,
        )


class ReadAlertOut(BaseModel):
    """An actor's reads on one day far above its usual level, and how the alert was closed, if it was."""

    id: uuid.UUID
    actor: str
    day: date
    count: int
    threshold: float
    baseline: float
    raised_at: datetime
    updated_at: datetime
    status: Literal["open", "closed"]
    closed_by: str | None
    closed_at: datetime | None
    note: str | None
    log_seq: int | None

    @classmethod
    def of(cls, alert: ReadAlert) -> ReadAlertOut:
        """The alert as the API shows it."""
        return cls.model_validate(alert, from_attributes=True)


class ReadAlertPageOut(Page[ReadAlertOut]):
    """A page of alerts, oldest first."""

    total: int

    @classmethod
    def of(cls, page: AlertPage) -> ReadAlertPageOut:
        """The page as the API shows it."""
        return cls(items=[ReadAlertOut.of(a) for a in page.items], next_cursor=page.next_cursor, total=page.total)


class CloseAlertIn(BaseModel):
    """Why an alert is closed; the note becomes part of the permanent log."""

    note: str = Field(
        min_length=1, max_length=2000, description="why: references only, never names or contact details"
    )
