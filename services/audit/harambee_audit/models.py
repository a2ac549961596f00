"""The audit tables: the log (heads, entries, Merkle subtrees, checkpoints), emergency reviews, read alerts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class LogHead(Base):
    """A tenant's log as of its last append; locked FOR UPDATE so appends take turns."""

    __tablename__ = "log_heads"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    size: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    last_leaf: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    frontier: Mapped[bytes] = mapped_column(sa.LargeBinary, server_default=sa.text("''::bytea"))
    checkpoint_size: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    checkpoint_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Entry(Base):
    """One recorded event; never updated or deleted."""

    __tablename__ = "entries"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "event_id", name="entries_event_once"),
        sa.Index("entries_by_subject", "tenant_id", "subject", "seq"),
        sa.Index("entries_by_type", "tenant_id", "type", "seq"),
        sa.Index("entries_by_actor", "tenant_id", "actor", "seq"),
        sa.Index("entries_by_client", "tenant_id", "client_id", "seq"),
        sa.Index("entries_by_agreement", "tenant_id", "agreement", "seq"),
        sa.Index("entries_by_time", "tenant_id", "time"),
    )

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.Text)
    type: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.Text)
    subject: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str | None] = mapped_column(sa.Text)
    client_id: Mapped[str | None] = mapped_column(sa.Text)
    agreement: Mapped[str | None] = mapped_column(sa.Text)
    purpose: Mapped[str | None] = mapped_column(sa.Text)
    time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    canonical: Mapped[bytes] = mapped_column(sa.LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(sa.LargeBinary)


class MerkleNode(Base):
    """A complete subtree above the leaves (level >= 1), stored when it closes, for proofs."""

    __tablename__ = "merkle_nodes"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    idx: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(sa.LargeBinary)


class Checkpoint(Base):
    """A signed statement of a tenant's tree size and root hash at a time."""

    __tablename__ = "checkpoints"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    tree_size: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    root_hash: Mapped[bytes] = mapped_column(sa.LargeBinary)
    signed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    key_id: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str] = mapped_column(sa.Text)


class EmergencyAccess(Base):
    """A read made under an emergency reason ("break the glass"), queued for a compliance officer."""

    __tablename__ = "emergency_accesses"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.Text)
    subject: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str | None] = mapped_column(sa.Text)
    client_id: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    accessed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    queued_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class EmergencyReview(Base):
    """A compliance officer's decision on an emergency access: signed off or flagged, once."""

    __tablename__ = "emergency_reviews"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    decision: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str] = mapped_column(sa.Text)
    reviewed_by: Mapped[str] = mapped_column(sa.Text)
    reviewer_client_id: Mapped[str] = mapped_column(sa.Text)
    reviewed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    log_seq: Mapped[int] = mapped_column(sa.BigInteger)


class ReadCount(Base):
    """How many reads an actor made in a tenant on one (local) day."""

    __tablename__ = "read_counts"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    actor: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    count: Mapped[int] = mapped_column(sa.BigInteger)


class ReadCountMark(Base):
    """How far through a tenant's log the reads have been counted: entries [0, counted)."""

    __tablename__ = "read_count_marks"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    counted: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")


class ReadAlert(Base):
    """An actor's reads on one day far above its own usual level, open until an officer closes it."""

    __tablename__ = "read_alerts"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.Text)
    day: Mapped[date] = mapped_column(sa.Date)
    count: Mapped[int] = mapped_column(sa.BigInteger)
    threshold: Mapped[float] = mapped_column(sa.Float)
    baseline: Mapped[float] = mapped_column(sa.Float)
    raised_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    status: Mapped[str] = mapped_column(sa.Text)
    closed_by: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(sa.Text)
    log_seq: Mapped[int | None] = mapped_column(sa.BigInteger)
