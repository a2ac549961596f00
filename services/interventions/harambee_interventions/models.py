"""Interventions' tables. A person appears only as intake's pseudonymous subject reference."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class KnownCase(Base):
    """A case assessment has opened, which plans will later hang on."""

    __tablename__ = "known_cases"

    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
