"""Monitoring's read model: what each referral and case went through, as codes and dates.

It holds no reference to a person (no subject reference, no name, no free text): a referral and a case
are known by their own ids only, so that the read model can be kept and replayed without anything that
a person may ask to have erased. Each service's events fill their own columns, in whatever order they
arrive (a case's events may come before the referral's): every write is an upsert of those columns.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ReferralFact(Base):
    """One referral: who referred and about whom (in codes), and how screening ended."""

    __tablename__ = "referral_facts"

    referral_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    source_type: Mapped[str | None] = mapped_column(sa.Text)
    age_band: Mapped[str | None] = mapped_column(sa.Text)
    gender: Mapped[str | None] = mapped_column(sa.Text)
    is_minor: Mapped[bool | None] = mapped_column(sa.Boolean)
    concern_types: Mapped[list[str] | None] = mapped_column(ARRAY(sa.Text))
    indicators: Mapped[list[str] | None] = mapped_column(ARRAY(sa.Text))
    repeat_referral: Mapped[bool | None] = mapped_column(sa.Boolean)
    screened_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    screening_outcome: Mapped[str | None] = mapped_column(sa.Text)


class CaseFact(Base):
    """One case opened for an accepted referral: assessment, panel, consent, support, exit and follow-up."""

    __tablename__ = "case_facts"

    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    opened_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    assessed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decision: Mapped[str | None] = mapped_column(sa.Text)
    consented_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    planned_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    intervention_types: Mapped[list[str] | None] = mapped_column(ARRAY(sa.Text))
    first_session_on: Mapped[date | None] = mapped_column(sa.Date)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    exit_reason: Mapped[str | None] = mapped_column(sa.Text)
    follow_up_6: Mapped[str | None] = mapped_column(sa.Text)
    follow_up_12: Mapped[str | None] = mapped_column(sa.Text)
    # A case taken over from another county (it has no referral here), or let go to another.
    transferred_in_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    transferred_out_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Reassessment(Base):
    """An approved assessment that superseded an earlier one: how many items changed, and which way."""

    __tablename__ = "reassessments"

    assessment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    approved_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    items_compared: Mapped[int] = mapped_column(sa.Integer)
    items_improved: Mapped[int] = mapped_column(sa.Integer)
    items_worsened: Mapped[int] = mapped_column(sa.Integer)
    # By domain kind (null: the event predates these counts): concerns rated lower or higher, strengths higher
    # or lower. Needs-screen items are in the item counts above only.
    concerns_compared: Mapped[int | None] = mapped_column(sa.Integer)
    concerns_down: Mapped[int | None] = mapped_column(sa.Integer)
    concerns_up: Mapped[int | None] = mapped_column(sa.Integer)
    strengths_compared: Mapped[int | None] = mapped_column(sa.Integer)
    strengths_up: Mapped[int | None] = mapped_column(sa.Integer)
    strengths_down: Mapped[int | None] = mapped_column(sa.Integer)


class PopulationFigure(Base):
    """A tenant's population of one group (e.g. age band and gender), against which referrals are compared."""

    __tablename__ = "population_figures"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    dimension: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    group_key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    population: Mapped[int] = mapped_column(sa.BigInteger)
    source: Mapped[str] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class DisparitySetting(Base):
    """The ratio of referral share to population share at which a group is flagged, per tenant."""

    __tablename__ = "disparity_settings"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    threshold: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    recorded_by: Mapped[str] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class WithheldCell(Base):
    """A cell a suppressed release withheld from a reader under an agreement: withheld in every later release."""

    __tablename__ = "withheld_cells"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # the county whose figures were released
    agreement_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    unit: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    partition: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    month: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    category: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    first_withheld_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class PrivacySpend(Base):
    """One differentially private release: the ε it spent from an agreement's budget for a period."""

    __tablename__ = "privacy_spends"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)  # the county whose data was released
    agreement_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    period: Mapped[str] = mapped_column(sa.Text)
    indicator: Mapped[str] = mapped_column(sa.Text)
    epsilon: Mapped[float] = mapped_column(sa.Float)
    actor: Mapped[str] = mapped_column(sa.Text)
    released_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
