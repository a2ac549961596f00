"""Every query about the consents interventions holds."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_interventions.models import Consent


def add(*, session: Session, consent: Consent) -> None:
    """Stores a consent once (a redelivered event changes nothing)."""
    values = {c: getattr(consent, c) for c in ("consent_id", "tenant_id", "subject_ref", "organisations",
                                                 "expires_at", "withdrawn_at")}
    session.execute(insert(Consent).values(**values).on_conflict_do_nothing(index_elements=[Consent.consent_id]))


def withdraw(*, session: Session, consent_id: uuid.UUID, withdrawn_at: datetime) -> None:
    """Marks a consent withdrawn (the first withdrawal stands)."""
    session.execute(sa.update(Consent).where(Consent.consent_id == consent_id, Consent.withdrawn_at.is_(None))
                    .values(withdrawn_at=withdrawn_at))


def naming(organisation: str, *, subject_ref: sa.ColumnElement[uuid.UUID] | uuid.UUID,
           at: datetime) -> sa.Exists:
    """A condition: the person has a consent in force at `at` that names the organisation."""
    return sa.exists().where(
        Consent.subject_ref == subject_ref,
        sa.literal(organisation) == sa.any_(Consent.organisations),
        Consent.withdrawn_at.is_(None),
        sa.or_(Consent.expires_at.is_(None), Consent.expires_at > at),
    )


def names(*, session: Session, subject_ref: uuid.UUID, organisation: str, at: datetime) -> bool:
    """Whether the person has a consent in force at `at` that names the organisation."""
    return bool(session.scalar(sa.select(naming(organisation, subject_ref=subject_ref, at=at))))
