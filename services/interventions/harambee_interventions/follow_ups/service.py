"""Follow-ups after exit: listed for a case (the read recorded), and recorded once, in coded fields."""

from __future__ import annotations

import uuid
from datetime import datetime

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.interventions import FollowUpRecorded
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, or_not_found
from harambee_interventions.events import EVENTS
from harambee_interventions.flags import closing as flags
from harambee_interventions.follow_ups import repository
from harambee_interventions.models import FollowUp


def page(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, cursor: str | None,
         limit: int) -> Slice[FollowUp]:
    """A page of a case's follow-ups; the read is recorded under the person's reference."""
    found = repository.list_follow_ups(session=uow.session, case_id=case_id, cursor=cursor, limit=limit)
    if found.rows:
        EVENTS.record_access(uow, principal=principal, subject=str(found.rows[0].subject_ref),
                             resource=f"case/{case_id}/follow-ups", fields=("due_on", "outcome"),
                             purpose="case-management")
    return found


def record(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, follow_up_id: uuid.UUID,
           outcome: str, in_education_or_work: bool | None, re_referred: bool, at: datetime) -> FollowUp:
    """Records a follow-up (once: 409 after), publishes it, and closes its due flag."""
    follow_up = or_not_found(repository.get_follow_up(session=uow.session, case_id=case_id,
                                                      follow_up_id=follow_up_id), "No such follow-up.")
    if follow_up.recorded_at is not None:
        raise Conflict("The follow-up is recorded already.")
    follow_up.recorded_at, follow_up.recorded_by, follow_up.outcome = at, principal.actor, outcome
    follow_up.in_education_or_work, follow_up.re_referred = in_education_or_work, re_referred
    EVENTS.publish(uow, FollowUpRecorded(
        follow_up_id=follow_up_id, case_id=case_id, subject_ref=follow_up.subject_ref,
        months_after_exit=follow_up.months_after_exit, outcome=outcome, in_education_or_work=in_education_or_work,
        re_referred=re_referred, recorded_at=at,
    ), subject=str(follow_up.subject_ref))
    flags.close_flags(uow=uow, case_id=case_id, kinds=("follow_up_due",), target_id=follow_up_id,
                      action="follow_up_recorded", actor=principal.actor, at=at)
    return follow_up
