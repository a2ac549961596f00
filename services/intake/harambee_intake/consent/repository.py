"""Every query about consent records."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_intake.models import (
    Consent,
    Referral,
)


def add_consent(*, session: Session, consent: Consent) -> None:
    """Stores a consent record."""
    session.add(consent)
    session.flush()


def consents_of(*, session: Session, subject_ids: list[uuid.UUID]) -> list[Consent]:
    """The consent records of these subjects, newest first."""
    return list(session.scalars(sa.select(Consent).where(Consent.subject_id.in_(subject_ids))
                                .order_by(Consent.given_at.desc()).limit(500)))


def lock_consent(*, session: Session, consent_id: uuid.UUID) -> Consent | None:
    """A consent record, for update."""
    return session.scalar(sa.select(Consent).where(Consent.id == consent_id).with_for_update())


def any_minor_referral(*, session: Session, subject_ids: list[uuid.UUID]) -> bool:
    """Whether any referral of these subjects describes a minor."""
    return bool(session.scalar(sa.select(sa.exists().where(
        Referral.subject_id.in_(subject_ids), Referral.is_minor.is_(True)))))
