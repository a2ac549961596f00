"""Assessment's tables. A person appears only as intake's pseudonymous subject reference."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Case(Base):
    """The programme's case about one person, from a referral (or a transfer) to closure.

    A case transferred to another county keeps only its id, status, dates and transfer_id; subject_ref
    and referral_id are erased unless the transfer's agreement lets the sender keep them.
    """

    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_ref: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, unique=True)
    status: Mapped[str] = mapped_column(sa.Text)  # open, transferred
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # the transfer that took it away
    transferred_from: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # the transfer that brought it


class CaseTransfer(Base):
    """One side of a case transfer between two counties: outgoing in the sender, incoming in the receiver.

    The reason and decision reason are codes and travel in events; notes are free text and stay in the
    tenant that wrote them.
    """

    __tablename__ = "case_transfers"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    direction: Mapped[str] = mapped_column(sa.Text)  # outgoing, incoming
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)  # the case in the sending tenant
    subject_ref: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    from_tenant: Mapped[str] = mapped_column(sa.Text)
    to_tenant: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)  # proposed, accepted, refused
    reason: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    agreement_version: Mapped[int | None] = mapped_column(sa.Integer)
    proposed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    received_case_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # the receiver's new case
