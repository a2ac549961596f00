"""When a case is due for reassessment: at the review date the panel set, or at once when new information
arrives about a person already assessed (a repeat referral, an intervention review that asks for it, an
agency's answer to an information request). Approving the next assessment clears it; the panel's next
decision sets the next review date.
"""

from __future__ import annotations

from datetime import date

from harambee_assessment import access
from harambee_assessment.assessments import repository as assessments
from harambee_assessment.events import EVENTS
from harambee_assessment.models import Case
from harambee_assessment.reassessments import repository
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.assessment import ReassessmentDue, ReassessmentReason
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice


def mark_due(*, uow: UnitOfWork, case: Case, on: date, reason: ReassessmentReason) -> bool:
    """Makes a case due for reassessment on a day (the earlier date wins); returns whether it changed.

    New information about a person never assessed feeds their first assessment instead: nothing is due.
    """
    if reason != "review_date" and assessments.approved_of(session=uow.session, case_id=case.id) is None:
        return False
    if case.reassessment_due_on is not None and case.reassessment_due_on <= on and reason != "review_date":
        return False
    case.reassessment_due_on, case.reassessment_reason = on, reason
    EVENTS.publish(uow, ReassessmentDue(case_id=case.id, subject_ref=case.subject_ref, due_on=on, reason=reason),
                   subject=str(case.subject_ref))
    return True


def clear_due(*, case: Case) -> None:
    """The reassessment was made (its assessment approved): nothing is due until the panel says when."""
    case.reassessment_due_on = case.reassessment_reason = None


def due(*, uow: UnitOfWork, principal: TenantPrincipal, by: date, overdue_on: date | None, cursor: str | None,
        limit: int) -> Slice[Case]:
    """The cases the principal may read that are due by a day (or overdue on one), soonest first."""
    page = repository.due(session=uow.session, where=access.readable(principal), by=by, overdue_on=overdue_on,
                          cursor=cursor, limit=limit)
    for case in page.rows:
        access.record_case_read(uow=uow, principal=principal, case=case, resource=access.case_resource(case.id),
                                fields=("status", "reassessment_due_on", "reassessment_reason"))
    return page
