"""Intake's tables. Identifying fields are stored only as ciphertext (see vault.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Subject(Base):
    """A referred person: a pseudonymous reference plus their encrypted identity."""

    __tablename__ = "subjects"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text, index=True)
    wrapped_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    identity: Mapped[dict[str, str]] = mapped_column(JSONB)  # field name -> base64 ciphertext
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class Referral(Base):
    """A concern about a person, submitted by a partner organisation or programme staff."""

    __tablename__ = "referrals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id"))
    organisation: Mapped[str | None] = mapped_column(sa.Text)
    submitted_by: Mapped[str] = mapped_column(sa.Text)
    source_type: Mapped[str] = mapped_column(sa.Text)
    concern: Mapped[str] = mapped_column(sa.Text)
    indicators: Mapped[list[str]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.Index("referrals_tenant_received", "tenant_id", "received_at", "id"),)
