"""Assessment's tables. A person appears only as intake's pseudonymous subject reference."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
    # open -> (panel) awaiting_consent -> consented | declined | signposted | escalated; withdrawn, closed,
    # transferred
    status: Mapped[str] = mapped_column(sa.Text)
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # the transfer that took it away
    transferred_from: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # the transfer that brought it
    referring_organisation: Mapped[str | None] = mapped_column(sa.Text)
    reassessment_due_on: Mapped[date | None] = mapped_column(sa.Date)
    reassessment_reason: Mapped[str | None] = mapped_column(sa.Text)
    consent_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # the support consent it rests on


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


class AssessmentSettings(Base):
    """How a tenant runs assessments and its panel (defaults apply until it says otherwise)."""

    __tablename__ = "assessment_settings"

    tenant_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    four_eyes: Mapped[bool] = mapped_column(sa.Boolean)
    panel_quorum: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(sa.Text)


class AssessmentSettingsChange(Base):
    """One change to a tenant's settings: the values before and after, who and when (kept, never changed)."""

    __tablename__ = "assessment_settings_changes"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    four_eyes: Mapped[bool] = mapped_column(sa.Boolean)
    panel_quorum: Mapped[int] = mapped_column(sa.Integer)
    previous_four_eyes: Mapped[bool] = mapped_column(sa.Boolean)
    previous_panel_quorum: Mapped[int] = mapped_column(sa.Integer)
    changed_by: Mapped[str] = mapped_column(sa.Text)
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class CaseAssignment(Base):
    """An assessor assigned to a case: they read it and contribute to its assessments."""

    __tablename__ = "case_assignments"

    tenant_id: Mapped[str] = mapped_column(sa.Text)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    assessor: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    assigned_by: Mapped[str] = mapped_column(sa.Text)
    assigned_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class InformationRequest(Base):
    """A question to another agency about a case, under an agreement; the agency's structured answer."""

    __tablename__ = "information_requests"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    organisation: Mapped[str] = mapped_column(sa.Text)
    question: Mapped[str] = mapped_column(sa.Text)
    data_categories: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    agreement_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    agreement_version: Mapped[int] = mapped_column(sa.Integer)
    due_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.Text)  # open, answered
    requested_by: Mapped[str] = mapped_column(sa.Text)
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    shares_concern: Mapped[str | None] = mapped_column(sa.Text)
    knowledge: Mapped[str | None] = mapped_column(sa.Text)
    attachments: Mapped[list[str] | None] = mapped_column(ARRAY(sa.Text))
    answered_by: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Framework(Base):
    """A tenant's assessment framework; its content lives in immutable published versions."""

    __tablename__ = "frameworks"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    code: Mapped[str] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class FrameworkVersion(Base):
    """One version of a framework: domains, items, scales. A draft may change; a published one never does."""

    __tablename__ = "framework_versions"

    tenant_id: Mapped[str] = mapped_column(sa.Text)
    framework_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    status: Mapped[str] = mapped_column(sa.Text)  # draft, published
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Assessment(Base):
    """A structured professional judgement of a case, made with one framework version (no score)."""

    __tablename__ = "assessments"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    framework_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    framework_version: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.Text)  # draft, submitted, approved, superseded
    ratings: Mapped[dict[str, Any]] = mapped_column(JSONB)  # item code -> {rating, by, at}
    summary: Mapped[str | None] = mapped_column(sa.Text)
    management_plan: Mapped[str | None] = mapped_column(sa.Text)
    needs: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    started_by: Mapped[str] = mapped_column(sa.Text)
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    submitted_by: Mapped[str | None] = mapped_column(sa.Text)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(sa.Text)
    approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    supersedes: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    superseded_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    returned_reason: Mapped[str | None] = mapped_column(sa.Text)  # why a reviewer sent it back, if one did


class Contribution(Base):
    """One assessor's attributed contribution to an assessment: ratings, and what they observed."""

    __tablename__ = "assessment_contributions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    assessment_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    author: Mapped[str] = mapped_column(sa.Text)
    organisation: Mapped[str | None] = mapped_column(sa.Text)
    ratings: Mapped[dict[str, str]] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(sa.Text)
    contributed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class PanelMeeting(Base):
    """A multi-agency panel meeting: its date, chair and attendees (person and agency)."""

    __tablename__ = "panel_meetings"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    held_on: Mapped[date] = mapped_column(sa.Date)
    chair: Mapped[str] = mapped_column(sa.Text)
    attendees: Mapped[list[dict[str, str]]] = mapped_column(JSONB)  # [{person, agency}]
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class AgendaItem(Base):
    """A case on a meeting's agenda (panel members read the cases of their meetings' agendas only)."""

    __tablename__ = "panel_agenda_items"

    tenant_id: Mapped[str] = mapped_column(sa.Text)
    meeting_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    added_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class PanelMember(Base):
    """A person attending a meeting, kept apart so "which agendas may this member read" is one index probe."""

    __tablename__ = "panel_attendance"

    tenant_id: Mapped[str] = mapped_column(sa.Text)
    meeting_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    person: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    agency: Mapped[str] = mapped_column(sa.Text)


class PanelDecision(Base):
    """The panel's decision on one case, with reasons, dissent and the next review."""

    __tablename__ = "panel_decisions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    meeting_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    assessment_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    outcome: Mapped[str] = mapped_column(sa.Text)  # adopt, decline, signpost, escalate
    reasons: Mapped[str] = mapped_column(sa.Text)
    referred_to: Mapped[str | None] = mapped_column(sa.Text)  # where a signpost or escalation goes
    dissent: Mapped[list[dict[str, str]]] = mapped_column(JSONB)  # [{member, reason}]
    next_review_on: Mapped[date | None] = mapped_column(sa.Date)
    decided_by: Mapped[str] = mapped_column(sa.Text)
    decided_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class DisclosureConsent(Base):
    """Intake's consent records that name registry organisations among their recipients (any purpose).

    Where an agreement says `consent_required`, what assessment discloses to an organisation waits for one
    of these, active, naming it (sharing.py).
    """

    __tablename__ = "disclosure_consents"

    consent_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    organisations: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    given_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class SupportConsent(Base):
    """Intake's consent records for the purpose `support`, as its events told us (references only)."""

    __tablename__ = "support_consents"

    consent_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.Text)
    subject_ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    given_by: Mapped[str] = mapped_column(sa.Text)
    given_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
