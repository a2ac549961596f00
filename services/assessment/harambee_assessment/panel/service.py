"""The multi-agency panel (lifecycle step 5): meetings, their agendas, and a decision on each case.

A meeting has a date, a chair and attendees (person and agency) and an agenda of cases. Each case is
decided — adopt, decline, signpost elsewhere, escalate — with reasons, each dissenting member's reason,
and the date of next review (required to adopt). A decision needs the case's approved assessment and a
quorum: attendees from at least the tenant's number of distinct agencies (default 3).

Panel members read only the meetings they attend and the cases on those agendas, and the chair records
the meeting's decisions; the programme's case workers and managers run the panel and read every meeting.
Decisions publish `case.adopted`, `case.declined`, `case.signposted` or `case.escalated` (references and
codes only). Adoption leaves the case waiting for consent to support (consent.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from harambee_assessment import access, consent, settings
from harambee_assessment import repository as cases_repository
from harambee_assessment import service as cases
from harambee_assessment.assessments import repository as assessments
from harambee_assessment.assessments import service as assessment_views
from harambee_assessment.events import EVENTS
from harambee_assessment.models import AgendaItem, Case, PanelDecision, PanelMeeting, PanelMember
from harambee_assessment.panel import repository
from harambee_assessment.panel.schemas import (
    AgendaItemView,
    Attendee,
    DecisionIn,
    DecisionView,
    MeetingIn,
    MeetingView,
)
from harambee_assessment.reassessments import service as reassessments
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.assessment import (
    CaseAdopted,
    CaseDeclined,
    CaseEscalated,
    CaseSignposted,
    PanelMeetingScheduled,
)
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.permissions import Role
from harambee_common.problems import Conflict, Forbidden, ValidationFailed, or_not_found

# The case status each outcome leaves (adopt: consent.await_consent decides between two).
STATUS_OF = {"decline": "declined", "signpost": "signposted", "escalate": "escalated"}
RUN_THE_PANEL = frozenset({Role.case_worker, Role.programme_manager})


class NoQuorum(Conflict):
    slug, title = "no-quorum", "The meeting is not quorate"


def schedule(*, uow: UnitOfWork, principal: TenantPrincipal, body: MeetingIn, now: datetime) -> MeetingView:
    """Schedules a meeting with its attendees and agenda; every agenda case must be one this tenant works."""
    people = [a.person for a in body.attendees]
    if len(set(people)) != len(people):
        raise ValidationFailed("An attendee is listed twice.", errors=[{"field": "attendees", "message": "Repeated."}])
    if body.chair not in people:
        raise ValidationFailed("The chair attends: list them among the attendees.",
                               errors=[{"field": "chair", "message": "Not among the attendees."}])
    meeting = PanelMeeting(id=uuid.uuid4(), tenant_id=uow.tenant, held_on=body.held_on, chair=body.chair,
                           attendees=[a.model_dump() for a in body.attendees], created_by=principal.actor,
                           created_at=now)
    repository.add(session=uow.session, row=meeting)
    for attendee in body.attendees:
        repository.add(session=uow.session, row=PanelMember(tenant_id=uow.tenant, meeting_id=meeting.id,
                                                            person=attendee.person, agency=attendee.agency))
    for case_id in body.agenda:
        _add_case(uow=uow, principal=principal, meeting=meeting, case_id=case_id, now=now)
    EVENTS.publish(uow, PanelMeetingScheduled(meeting_id=meeting.id, held_on=meeting.held_on,
                                              agencies=sorted({a.agency for a in body.attendees}),
                                              cases=list(dict.fromkeys(body.agenda)), actor=principal.actor),
                   subject=f"panel-meeting/{meeting.id}")
    return _view(uow=uow, meeting=meeting)


def add_to_agenda(*, uow: UnitOfWork, principal: TenantPrincipal, meeting_id: uuid.UUID, case_id: uuid.UUID,
                  now: datetime) -> MeetingView:
    """Puts one more case on a meeting's agenda."""
    meeting = _meeting(uow=uow, principal=principal, meeting_id=meeting_id)
    _add_case(uow=uow, principal=principal, meeting=meeting, case_id=case_id, now=now)
    return _view(uow=uow, meeting=meeting)


def meetings(*, uow: UnitOfWork, principal: TenantPrincipal, cursor: str | None,
             limit: int) -> Slice[MeetingView]:
    """A page of meetings, latest first: a panel member's own, or every one for those who run the panel."""
    page = repository.meetings(session=uow.session, attended_by=_attending_only(principal), cursor=cursor,
                               limit=limit)
    return Slice(rows=[_view(uow=uow, meeting=m) for m in page.rows], next_cursor=page.next_cursor)


def meeting(*, uow: UnitOfWork, principal: TenantPrincipal, meeting_id: uuid.UUID) -> MeetingView:
    """One meeting the principal may read."""
    return _view(uow=uow, meeting=_meeting(uow=uow, principal=principal, meeting_id=meeting_id))


def agenda(*, uow: UnitOfWork, principal: TenantPrincipal, meeting_id: uuid.UUID, cursor: str | None,
           limit: int) -> Slice[AgendaItemView]:
    """A page of a meeting's agenda: each case with its approved assessment and the meeting's decision.

    Each case read is recorded; a withdrawn case is left out for all but compliance.
    """
    found = _meeting(uow=uow, principal=principal, meeting_id=meeting_id)
    page = repository.agenda(session=uow.session, meeting_id=found.id, where=access.readable(principal),
                             cursor=cursor, limit=limit)
    cases = {row.Case.id: row.Case for row in page.rows}
    decided = {d.case_id: d for d in repository.decisions_on(session=uow.session, meeting_id=found.id,
                                                             case_ids=list(cases))}
    approved = assessments.approved_of_cases(session=uow.session, case_ids=list(cases))
    by_case = {v.case_id: v for v in assessment_views.views(uow=uow, principal=principal, cases=cases,
                                                             assessments=approved)}
    items = []
    for case in cases.values():
        if case.id not in by_case:
            access.record_case_read(uow=uow, principal=principal, case=case, resource=access.case_resource(case.id),
                                    fields=("status",), purpose="panel")
        decision = decided.get(case.id)
        items.append(AgendaItemView(case_id=case.id, subject_ref=case.subject_ref, status=case.status,
                                    assessment=by_case.get(case.id),
                                    decision=DecisionView.model_validate(decision) if decision else None))
    return Slice(rows=items, next_cursor=page.next_cursor)


def decide(*, uow: UnitOfWork, principal: TenantPrincipal, meeting_id: uuid.UUID, body: DecisionIn,
           now: datetime) -> DecisionView:
    """Records the panel's decision on a case of the agenda, and what it means for the case."""
    found = _meeting(uow=uow, principal=principal, meeting_id=meeting_id)
    if _attending_only(principal) is not None and principal.actor != found.chair:
        raise Forbidden("The meeting's chair records its decisions.")
    if not repository.on_agenda(session=uow.session, meeting_id=found.id, case_id=body.case_id):
        raise ValidationFailed("The case is not on this meeting's agenda.",
                               errors=[{"field": "case_id", "message": "Not on the agenda."}])
    _check_decision(body)
    members = {a["person"] for a in found.attendees}
    if strangers := sorted({d.member for d in body.dissent} - members):
        raise ValidationFailed(f"'{strangers[0]}' did not attend: only attendees dissent.",
                               errors=[{"member": m, "message": "Not an attendee."} for m in strangers])
    view = _view(uow=uow, meeting=found)
    if not view.quorate:
        raise NoQuorum(f"{view.agencies} agencies attend; this tenant's panel decides with {view.quorum}.")
    case = or_not_found(cases_repository.get_case(session=uow.session, case_id=body.case_id, for_update=True),
                        "No such case.")
    if case.status not in cases.WORKED:
        raise Conflict(f"The case is {case.status}: the panel no longer decides on it.")
    if repository.decision_of(session=uow.session, meeting_id=found.id, case_id=case.id) is not None:
        raise Conflict("This meeting has decided on the case already.")
    approved = assessments.approved_of(session=uow.session, case_id=case.id)
    if approved is None:
        raise Conflict("The case has no approved assessment: the panel decides on an approved assessment.")
    decision = PanelDecision(
        id=uuid.uuid4(), tenant_id=uow.tenant, meeting_id=found.id, case_id=case.id, assessment_id=approved.id,
        outcome=body.outcome, reasons=body.reasons, referred_to=body.referred_to,
        dissent=[d.model_dump() for d in body.dissent], next_review_on=body.next_review_on,
        decided_by=principal.actor, decided_at=now,
    )
    repository.add(session=uow.session, row=decision)
    _apply(uow=uow, case=case, decision=decision, now=now)
    return DecisionView.model_validate(decision)


def decisions_of_case(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, cursor: str | None,
                      limit: int) -> Slice[PanelDecision]:
    """A page of a case's decisions, newest first; the read is recorded."""
    case = cases.readable_case(uow=uow, principal=principal, case_id=case_id)
    page = repository.decisions_of_case(session=uow.session, case_id=case.id, cursor=cursor, limit=limit)
    for decision in page.rows:
        access.record_case_read(uow=uow, principal=principal, case=case, resource=f"panel-decision/{decision.id}",
                                fields=("outcome", "reasons", "dissent", "next_review_on"), purpose="panel")
    return page


def _check_decision(body: DecisionIn) -> None:
    if body.outcome == "adopt" and body.next_review_on is None:
        raise ValidationFailed("An adopted case needs the date of its next review.",
                               errors=[{"field": "next_review_on", "message": "Required to adopt."}])
    if body.outcome in ("signpost", "escalate") and body.referred_to is None:
        raise ValidationFailed(f"Say where the case is sent: {body.outcome} needs referred_to.",
                               errors=[{"field": "referred_to", "message": f"Required to {body.outcome}."}])


def _apply(*, uow: UnitOfWork, case: Case, decision: PanelDecision, now: datetime) -> None:
    common = dict(decision_id=decision.id, case_id=case.id, subject_ref=case.subject_ref,
                  meeting_id=decision.meeting_id, assessment_id=decision.assessment_id, decided_at=now,
                  dissent_count=len(decision.dissent))
    if decision.outcome == "adopt":
        data = CaseAdopted(**common, next_review_on=decision.next_review_on)
    elif decision.outcome == "decline":
        data = CaseDeclined(**common)
    elif decision.outcome == "signpost":
        data = CaseSignposted(**common, signposted_to=decision.referred_to)
    else:
        data = CaseEscalated(**common, escalated_to=decision.referred_to)
    EVENTS.publish(uow, data, subject=str(case.subject_ref))
    if decision.outcome == "adopt":
        consent.await_consent(uow=uow, case=case, at=now)
    else:
        case.status, case.closed_at = STATUS_OF[decision.outcome], now
        reassessments.clear_due(case=case)
    if decision.next_review_on is not None and decision.outcome == "adopt":
        reassessments.mark_due(uow=uow, case=case, on=decision.next_review_on, reason="review_date")


def _add_case(*, uow: UnitOfWork, principal: TenantPrincipal, meeting: PanelMeeting, case_id: uuid.UUID,
              now: datetime) -> None:
    case = cases_repository.get_case(session=uow.session, case_id=case_id, where=access.readable(principal))
    if case is None or case.status not in cases.WORKED:
        raise ValidationFailed(f"Case '{case_id}' is not one this tenant is working.",
                               errors=[{"case_id": str(case_id), "message": "No such case being worked."}])
    repository.add_to_agenda_once(session=uow.session, item=AgendaItem(tenant_id=uow.tenant, meeting_id=meeting.id,
                                                                       case_id=case.id, added_at=now))


def _attending_only(principal: TenantPrincipal) -> str | None:
    """A panel member who does not also run the panel reads only the meetings they attend."""
    return None if principal.roles & RUN_THE_PANEL else principal.actor


def _meeting(*, uow: UnitOfWork, principal: TenantPrincipal, meeting_id: uuid.UUID) -> PanelMeeting:
    return or_not_found(repository.get(session=uow.session, meeting_id=meeting_id,
                                       attended_by=_attending_only(principal)), "No such panel meeting.")


def _view(*, uow: UnitOfWork, meeting: PanelMeeting) -> MeetingView:
    quorum = settings.current(uow=uow).panel_quorum
    agencies = len({a["agency"] for a in meeting.attendees})
    return MeetingView(id=meeting.id, held_on=meeting.held_on, chair=meeting.chair,
                       attendees=[Attendee.model_validate(a) for a in meeting.attendees], agencies=agencies,
                       quorum=quorum, quorate=agencies >= quorum, created_by=meeting.created_by,
                       created_at=meeting.created_at)

