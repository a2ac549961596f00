"""Every query about follow-ups."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_interventions.models import FollowUp

# Soonest due first: one case's follow-ups fall due in the order of their months after exit.
FOLLOW_UPS = Keyset(columns=(FollowUp.months_after_exit, FollowUp.follow_up_id), types=(int, uuid.UUID))


def list_follow_ups(*, session: Session, case_id: uuid.UUID, cursor: str | None, limit: int) -> Slice[FollowUp]:
    """A page of a case's follow-ups, soonest due first."""
    return paginate(session, sa.select(FollowUp).where(FollowUp.case_id == case_id), keyset=FOLLOW_UPS,
                    cursor=cursor, limit=limit)


def get_follow_up(*, session: Session, case_id: uuid.UUID, follow_up_id: uuid.UUID) -> FollowUp | None:
    """One follow-up of a case, locked for its recording."""
    return session.scalar(sa.select(FollowUp).where(FollowUp.follow_up_id == follow_up_id,
                                                    FollowUp.case_id == case_id).with_for_update())
