"""Flags as county staff see them: listed (each person's reference read recorded) and closed with an action."""

from __future__ import annotations

import uuid
from datetime import datetime

from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, or_not_found
from harambee_interventions.events import EVENTS
from harambee_interventions.flags import closing, repository
from harambee_interventions.models import Flag


def page(*, uow: UnitOfWork, principal: TenantPrincipal, status: str, kind: str | None, case_id: uuid.UUID | None,
         cursor: str | None, limit: int) -> Slice[Flag]:
    """A page of flags; each read of a person's reference is recorded."""
    found = repository.list_flags(session=uow.session, status=status, kind=kind, case_id=case_id, cursor=cursor,
                                  limit=limit)
    for flag in found.rows:
        EVENTS.record_access(uow, principal=principal, subject=str(flag.subject_ref), resource=f"flag/{flag.flag_id}",
                             fields=("case_id", "kind", "subject_ref"), purpose="case-management")
    return found


def close(*, uow: UnitOfWork, principal: TenantPrincipal, flag_id: uuid.UUID, action: str, note: str,
          at: datetime) -> Flag:
    """Closes an open flag with the action taken (409 if it is closed already)."""
    flag = or_not_found(repository.get_flag(session=uow.session, flag_id=flag_id), "No such flag.")
    if flag.closed_at is not None:
        raise Conflict("The flag is closed already.")
    flag.closed_at, flag.action, flag.note, flag.closed_by = at, action, note, principal.actor
    closing.publish_closed(uow=uow, flag=flag)
    return flag
