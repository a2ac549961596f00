"""Every query intake makes."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_intake.models import Referral, Subject


def add_subject(*, session: Session, subject: Subject) -> None:
    """Stores a new subject."""
    session.add(subject)
    session.flush()  # referrals point at it; no relationship() tells the unit of work the order


def add_referral(*, session: Session, referral: Referral) -> None:
    """Stores a new referral."""
    session.add(referral)
    session.flush()


def get_referral(*, session: Session, referral_id: uuid.UUID, organisation: str | None) -> Referral | None:
    """Gets a referral by id, only among one organisation's referrals when organisation is given."""
    query = sa.select(Referral).where(Referral.id == referral_id)
    if organisation is not None:
        query = query.where(Referral.organisation == organisation)
    return session.scalar(query)


def list_referrals(
    *,
    session: Session,
    organisation: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Referral]:
    """A page of referrals, newest first, optionally one organisation's only."""
    query = sa.select(Referral).order_by(Referral.received_at.desc(), Referral.id.desc()).limit(limit)
    if organisation is not None:
        query = query.where(Referral.organisation == organisation)
    if after is not None:
        at, ident = after
        query = query.where(sa.tuple_(Referral.received_at, Referral.id) < (at, uuid.UUID(ident)))
    return list(session.scalars(query))
