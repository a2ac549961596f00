"""Interventions' tables. A person appears only as intake's pseudonymous subject reference.

Providers see a task under its own `reference`, never the subject reference, the need it answers or
anything of the assessment: what a provider reads is cut in `tasks/views.py`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class KnownCase(Base):
    """A case assessment has opened; once consented (with the approved assessment's needs), a plan may be made."""

    __tablename__ = "known_cases"

    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # Set by case.consented (and the needs refreshed by a later assessment.approved); cleared by a withdrawal.
    consent_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    needs: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), default=list)
    consented_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Consent(Base):
    """A consent intake recorded: whose, which registry organisations it names, until when (`consents/`)."""

    __tablename__ = "consents"

    consent_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    organisations: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class InterventionType(Base):
    """A tenant's change to the default intervention catalogue: an edited or added type, or one retired."""

    __tablename__ = "intervention_types"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    code: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    label: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(sa.Text)


class TenantSettings(Base):
    """A tenant's intervention-tracking settings (absent: the defaults)."""

    __tablename__ = "intervention_settings"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    stall_days: Mapped[int] = mapped_column(sa.Integer)
    review_interval_months: Mapped[int] = mapped_column(sa.Integer)
    follow_up_months: Mapped[list[int]] = mapped_column(ARRAY(sa.Integer))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(sa.Text)


class SettingChange(Base):
    """A change to the tenant's settings or to a type of its catalogue, with the value it replaced."""

    __tablename__ = "setting_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)  # settings or intervention_type
    name: Mapped[str] = mapped_column(sa.Text)  # intervention-settings, or the type's code
    previous: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))  # None: a type added
    value: Mapped[dict[str, Any]] = mapped_column(JSONB)
    changed_by: Mapped[str] = mapped_column(sa.Text)
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class RegistryOrganisation(Base):
    """An organisation of the registry and the tenants it works in (from its events; platform data)."""

    __tablename__ = "registry_organisations"

    organisation: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.Text)
    tenants: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))


class Provider(Base):
    """A registry organisation registered as an intervention provider in a tenant."""

    __tablename__ = "providers"

    provider_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    organisation: Mapped[str] = mapped_column(sa.Text)
    registered_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    registered_by: Mapped[str] = mapped_column(sa.Text)


class Practitioner(Base):
    """A named practitioner of a provider: a registry person (by id), who sees the tasks given to them."""

    __tablename__ = "practitioners"

    practitioner_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    provider_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    added_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Vetting(Base):
    """A provider's current vetting for one intervention type (each vetting is also an event)."""

    __tablename__ = "vettings"

    tenant_id: Mapped[str] = mapped_column(sa.Text)
    provider_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    intervention_type: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    vetted_on: Mapped[date] = mapped_column(sa.Date)
    expires_on: Mapped[date] = mapped_column(sa.Date)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(sa.Text)


class Plan(Base):
    """A case's plan: its current version, status and review dates (versions in PlanVersion)."""

    __tablename__ = "plans"

    plan_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    subject_ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    version: Mapped[int] = mapped_column(sa.Integer)
    # active, stopped (consent withdrawn), closed (exit)
    status: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    next_review_on: Mapped[date] = mapped_column(sa.Date)
    last_reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    prior_reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    exit_reason: Mapped[str | None] = mapped_column(sa.Text)
    closing_report: Mapped[str | None] = mapped_column(sa.Text)
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class PlanVersion(Base):
    """One immutable version of a plan: its items as they stood."""

    __tablename__ = "plan_versions"

    plan_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    made_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    made_by: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text)


class Task(Base):
    """One plan item: a need, the goal set for it, and the provider (or named practitioner) who delivers it."""

    __tablename__ = "tasks"

    task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    plan_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    subject_ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    # The pseudonym the provider knows the person by (one per provider and plan): never the subject_ref.
    reference: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    need: Mapped[str] = mapped_column(sa.Text)
    goal: Mapped[str] = mapped_column(sa.Text)
    intervention_type: Mapped[str] = mapped_column(sa.Text)
    provider_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    starts_on: Mapped[date] = mapped_column(sa.Date)
    expected_end_on: Mapped[date] = mapped_column(sa.Date)
    # open, completed (goal met), ended (dropped from the plan, or the case closed), stopped (withdrawal, transfer)
    status: Mapped[str] = mapped_column(sa.Text)
    stop_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Its index in the items of the request that made it: tasks made together keep the order they were given in.
    position: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_session_on: Mapped[date | None] = mapped_column(sa.Date)
    last_progress_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class SessionRecord(Base):
    """A session a provider held (or that the person missed), with a short note."""

    __tablename__ = "sessions"

    session_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    held_on: Mapped[date] = mapped_column(sa.Date)
    duration_minutes: Mapped[int] = mapped_column(sa.Integer)
    attended: Mapped[bool] = mapped_column(sa.Boolean)
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(sa.Text)


class ProgressUpdate(Base):
    """A provider's rating of progress towards a task's goal, with a short note."""

    __tablename__ = "progress_updates"

    progress_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    rating: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(sa.Text)


class Review(Base):
    """A periodic review of a plan: goals met or not, kept or changed, the next review."""

    __tablename__ = "reviews"

    review_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    plan_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    reviewed_on: Mapped[date] = mapped_column(sa.Date)
    goals: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    plan_version: Mapped[int] = mapped_column(sa.Integer)
    plan_changed: Mapped[bool] = mapped_column(sa.Boolean)
    reassessment_requested: Mapped[bool] = mapped_column(sa.Boolean)
    next_review_on: Mapped[date] = mapped_column(sa.Date)
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(sa.Text)


class Flag(Base):
    """A sign that support is petering out, raised by the scheduled check; closed only with an action."""

    __tablename__ = "flags"

    flag_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)
    # What it is about: a task, a plan or a follow-up (by id).
    target_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    subject_ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    task_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    raised_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    action: Mapped[str | None] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)
    closed_by: Mapped[str | None] = mapped_column(sa.Text)


class FollowUp(Base):
    """A follow-up review after closure: due on a date, then recorded in coded fields."""

    __tablename__ = "follow_ups"

    follow_up_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    plan_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    subject_ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    months_after_exit: Mapped[int] = mapped_column(sa.Integer)
    due_on: Mapped[date] = mapped_column(sa.Date)
    recorded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    recorded_by: Mapped[str | None] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    in_education_or_work: Mapped[bool | None] = mapped_column(sa.Boolean)
    re_referred: Mapped[bool | None] = mapped_column(sa.Boolean)
