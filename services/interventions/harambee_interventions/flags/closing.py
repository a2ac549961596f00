"""Closing flags because what they flagged was dealt with: a review held, a follow-up recorded, work ended.

Every closure records its action and publishes `flag.closed`; staff close the rest through the API.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from harambee_common.catalogue.interventions import FlagClosed
from harambee_common.db import UnitOfWork
from harambee_interventions.events import EVENTS
from harambee_interventions.models import Flag


def close_flags(*, uow: UnitOfWork, case_id: uuid.UUID, kinds: Iterable[str] | None, action: str, actor: str,
                at: datetime, target_id: uuid.UUID | None = None) -> int:
    """Closes a case's open flags (of these kinds, or all; of one target, or any); returns how many."""
    statement = sa.update(Flag).where(Flag.case_id == case_id, Flag.closed_at.is_(None))
    if kinds is not None:
        statement = statement.where(Flag.kind.in_(list(kinds)))
    if target_id is not None:
        statement = statement.where(Flag.target_id == target_id)
    # populate_existing: a flag this session loaded before is returned as the update left it.
    closed = uow.session.scalars(statement.values(closed_at=at, action=action, closed_by=actor).returning(Flag),
                                 execution_options={"synchronize_session": False, "populate_existing": True}).all()
    for flag in closed:
        publish_closed(uow=uow, flag=flag)
    return len(closed)


def publish_closed(*, uow: UnitOfWork, flag: Flag) -> None:
    """Publishes a flag's closure (its note stays here)."""
    assert flag.closed_at is not None and flag.action is not None and flag.closed_by is not None
    EVENTS.publish(uow, FlagClosed(flag_id=flag.flag_id, kind=flag.kind, case_id=flag.case_id,
                                   subject_ref=flag.subject_ref, task_id=flag.task_id, action=flag.action,
                                   actor=flag.closed_by, closed_at=flag.closed_at), subject=str(flag.subject_ref))
