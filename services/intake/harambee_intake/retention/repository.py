"""Every query the retention job makes."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_intake import matching
from harambee_intake.models import (
    Consent,
    DuplicateCandidate,
    Referral,
    RetentionRun,
    RightsRequest,
    Subject,
)


def referrals_to_minimise(*, session: Session, outcome: str, before: datetime, limit: int) -> list[Referral]:
    """Referrals with this outcome screened before a time and not yet minimised; locked, skipping held ones."""
    return list(session.scalars(
        sa.select(Referral).where(Referral.outcome == outcome, Referral.screened_at < before,
                                  Referral.minimised_at.is_(None))
        .order_by(Referral.screened_at).limit(limit).with_for_update(skip_locked=True)))


def count_unminimised(*, session: Session, subject_ids: list[uuid.UUID]) -> int:
    """How many of these subjects' referrals still hold their content."""
    return session.scalar(sa.select(sa.func.count()).select_from(Referral).where(
        Referral.subject_id.in_(subject_ids), Referral.minimised_at.is_(None))) or 0


def holds_for(*, session: Session, subject_ids: list[uuid.UUID], at: datetime) -> bool:
    """Whether an active consent or an open rights request keeps these subjects' identity."""
    consent = sa.exists().where(Consent.subject_id.in_(subject_ids), Consent.withdrawn_at.is_(None),
                                sa.or_(Consent.expires_at.is_(None), Consent.expires_at > at))
    request = sa.exists().where(RightsRequest.subject_id.in_(subject_ids), RightsRequest.status == "open")
    return bool(session.scalar(sa.select(sa.or_(consent, request))))


def awaiting_duplicate_decision(*, session: Session, subject_ids: list[uuid.UUID]) -> bool:
    """Whether these subjects are in an exact-match candidate an officer has not decided yet."""
    return bool(session.scalar(sa.select(sa.exists().where(
        sa.or_(DuplicateCandidate.subject_id.in_(subject_ids), DuplicateCandidate.candidate_id.in_(subject_ids)),
        DuplicateCandidate.status == "open",
        DuplicateCandidate.signals.contains([matching.EXACT]),
    ))))


def fully_minimised_subjects(*, session: Session, limit: int) -> list[uuid.UUID]:
    """Subjects not erased whose every referral is minimised: ones an earlier run had to leave (a hold, a
    pending duplicate decision) are looked at again."""
    unminimised = sa.exists().where(Referral.subject_id == Subject.id, Referral.minimised_at.is_(None))
    referred = sa.exists().where(Referral.subject_id == Subject.id)
    return list(session.scalars(sa.select(Subject.id).where(
        Subject.wrapped_key.is_not(None), referred, ~unminimised).order_by(Subject.id).limit(limit)))


def add_retention_run(*, session: Session, run: RetentionRun) -> None:
    """Records what a retention run did."""
    session.add(run)
    session.flush()


def list_retention_runs(*, session: Session, limit: int) -> list[RetentionRun]:
    """The latest retention runs."""
    return list(session.scalars(sa.select(RetentionRun).order_by(RetentionRun.ran_at.desc()).limit(limit)))


def all_tenants(*, session: Session, limit: int) -> list[str]:
    """Every tenant with referrals (for the retention scheduler)."""
    return list(session.scalars(sa.select(sa.func.intake_tenants(limit))))
