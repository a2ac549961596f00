"""Every query about screening decisions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_intake.models import (
    Screening,
)


def add_screening(*, session: Session, screening: Screening) -> None:
    """Records a screening decision."""
    session.add(screening)
    session.flush()


def latest_screening(*, session: Session, referral_id: uuid.UUID) -> Screening | None:
    """The referral's screening decision."""
    return session.scalar(sa.select(Screening).where(Screening.referral_id == referral_id)
                          .order_by(Screening.decided_at.desc()).limit(1))


_TIMELINESS = sa.text(
    """
    SELECT outcome, count(*) AS screened,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY screening_seconds) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY screening_seconds) AS p90
    FROM referrals
    WHERE screened_at IS NOT NULL AND received_at >= :start AND received_at < :end
    GROUP BY ROLLUP (outcome)
    """
)


_AWAITING = sa.text(
    """
    SELECT count(*) AS awaiting, min(received_at) AS oldest FROM referrals
    WHERE screened_at IS NULL AND received_at >= :start AND received_at < :end
    """
)


def screening_timeliness(*, session: Session, start: datetime, end: datetime) -> tuple[list, Any]:
    """Time from receipt to screening per outcome (and overall), and what still awaits screening."""
    per_outcome = list(session.execute(_TIMELINESS, {"start": start, "end": end}))
    awaiting = session.execute(_AWAITING, {"start": start, "end": end}).one()
    return per_outcome, awaiting


def clear_screening_notes(*, session: Session, referral_ids: list[uuid.UUID]) -> None:
    """Removes the screener's words from these referrals' decisions."""
    if referral_ids:
        session.execute(sa.update(Screening).where(Screening.referral_id.in_(referral_ids)).values(sealed=None))
