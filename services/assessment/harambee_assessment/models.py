"""Assessment's tables. A person appears only as intake's pseudonymous subject reference."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Case(Base):
    """The programme's case about one referral, from acceptance to closure."""

    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True)
    status: Mapped[str] = mapped_column(sa.Text)
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
