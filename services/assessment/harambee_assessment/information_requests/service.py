"""Information gathering (lifecycle step 3): a case worker asks another agency whether it shares the concern.

A request names the organisation, the question, the data categories asked for and the agreement it is
made under. It goes only where that agreement is in force, names the organisation, permits
`information_requests` and holds every category asked for; otherwise it is refused (403), and the
refusal is recorded like every agreement decision. The agency's own system (a partner client of that
organisation, itself under an agreement in force) lists the requests addressed to it and answers them;
it sees the request and its own answer, never the case or its assessments, cut to the fields its
agreement names and without the question where the agreement requires consent that is not recorded
(sharing.py); a request under such an agreement is not sent without that consent. An answer to a case
already assessed makes it due for reassessment.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from harambee_assessment import access, sharing
from harambee_assessment import service as cases
from harambee_assessment.auth import INFORMATION_REQUESTS
from harambee_assessment.events import EVENTS
from harambee_assessment.information_requests import repository
from harambee_assessment.information_requests.schemas import (
    AddressedRequest,
    AnswerIn,
    InformationRequestIn,
    InformationRequestView,
)
from harambee_assessment.models import Case, InformationRequest
from harambee_assessment.reassessments import service as reassessments
from harambee_assessment.repository import get_case
from harambee_common.agreements import Agreement, AgreementRefused, Decision, Party, agreements_of, decision_event
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.assessment import InformationRequestAnswered, InformationRequestSent
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, NotFound, ValidationFailed, or_not_found

DEFAULT_DAYS_TO_ANSWER = 14


def send(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, body: InformationRequestIn,
         now: datetime) -> InformationRequestView:
    """Sends a request to an agency under an agreement that permits it (403, recorded, otherwise)."""
    case = cases.workable_case(uow=uow, principal=principal, case_id=case_id)
    due_on = body.due_on or now.date() + timedelta(days=DEFAULT_DAYS_TO_ANSWER)
    if due_on < now.date():
        raise ValidationFailed("The due date is in the past.", errors=[{"field": "due_on", "message": "In the past."}])
    decision = _decide(uow=uow, organisation=body.organisation, agreement_id=body.agreement_id,
                       categories=body.data_categories, on=now.date())
    event = decision_event(decision=decision, principal=principal, source=EVENTS)
    if not decision.granted or decision.agreement is None:
        refusal = AgreementRefused(f"No agreement in force lets '{body.organisation}' receive this request: "
                                   f"{decision.reason}.")
        refusal.events.append(event)
        raise refusal
    # The question about the person goes to the agency: where the agreement asks, only with their consent.
    sharing.require_consent(uow=uow, principal=principal, agreement=decision.agreement,
                            organisation=body.organisation, subject_ref=case.subject_ref,
                            operation=INFORMATION_REQUESTS, at=now)
    uow.publish(event)
    request = InformationRequest(
        id=uuid.uuid4(), tenant_id=uow.tenant, case_id=case.id, organisation=body.organisation,
        question=body.question, data_categories=sorted(set(body.data_categories)),
        agreement_id=decision.agreement.id, agreement_version=decision.agreement.version, due_on=due_on,
        status="open", requested_by=principal.actor, requested_at=now,
    )
    repository.add(session=uow.session, request=request)
    EVENTS.publish(uow, InformationRequestSent(
        request_id=request.id, case_id=case.id, subject_ref=case.subject_ref, organisation=request.organisation,
        data_categories=request.data_categories, agreement_id=request.agreement_id,
        agreement_version=request.agreement_version, due_on=due_on, actor=principal.actor,
    ), subject=str(case.subject_ref))
    return staff_view(request, today=now.date())


def of_case(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, today: date, cursor: str | None,
            limit: int) -> Slice[InformationRequestView]:
    """A page of a case's requests and answers, newest first; the read is recorded."""
    case = cases.readable_case(uow=uow, principal=principal, case_id=case_id)
    page = repository.of_case(session=uow.session, case_id=case.id, cursor=cursor, limit=limit)
    for request in page.rows:
        _record(uow=uow, principal=principal, case=case, request=request)
    return Slice(rows=[staff_view(r, today=today) for r in page.rows], next_cursor=page.next_cursor)


def listed(*, uow: UnitOfWork, principal: TenantPrincipal, overdue_on: date | None, cursor: str | None,
           limit: int) -> Slice[InformationRequest]:
    """A page of the requests of cases the principal may read, by due date; each read is recorded."""
    readable = InformationRequest.case_id.in_(sa.select(Case.id).where(access.readable(principal)))
    page = repository.listed(session=uow.session, organisation=None, case_filter=readable, overdue_on=overdue_on,
                             cursor=cursor, limit=limit)
    for request in page.rows:
        case = get_case(session=uow.session, case_id=request.case_id)
        if case is not None:
            _record(uow=uow, principal=principal, case=case, request=request)
    return page


def inbox(*, uow: UnitOfWork, principal: TenantPrincipal, overdue_on: date | None, cursor: str | None, limit: int,
          now: datetime) -> Slice[AddressedRequest]:
    """A page of the requests addressed to the partner's organisation, by due date, each as its agreement lets
    the agency see it; each disclosure is recorded."""
    # An agency no longer sees requests about a person who withdrew consent: that flow stops with the work.
    live = InformationRequest.case_id.in_(sa.select(Case.id).where(Case.status != "withdrawn"))
    page = repository.listed(session=uow.session, organisation=principal.organisation or "", case_filter=live,
                             overdue_on=overdue_on, cursor=cursor, limit=limit)
    views = [agency_view(uow=uow, principal=principal, request=r,
                         case=or_not_found(get_case(session=uow.session, case_id=r.case_id), "No such case."), at=now)
             for r in page.rows]
    return Slice(rows=views, next_cursor=page.next_cursor)


def answer(*, uow: UnitOfWork, principal: TenantPrincipal, request_id: uuid.UUID, body: AnswerIn,
           now: datetime) -> AddressedRequest:
    """The agency answers a request addressed to it (once); the case becomes due for reassessment if assessed."""
    request = or_not_found(repository.get(session=uow.session, request_id=request_id,
                                          organisation=principal.organisation or "", for_update=True),
                           "No such information request addressed to your organisation.")
    if request.status != "open":
        raise Conflict("This request has been answered already.")
    case = or_not_found(get_case(session=uow.session, case_id=request.case_id, for_update=True), "No such case.")
    if case.status == "withdrawn":
        raise Conflict("The person withdrew their consent: this request is closed and needs no answer.")
    request.status, request.shares_concern, request.knowledge = "answered", body.shares_concern, body.knowledge
    request.attachments, request.answered_by, request.answered_at = body.attachments, principal.actor, now
    EVENTS.publish(uow, InformationRequestAnswered(
        request_id=request.id, case_id=case.id, subject_ref=case.subject_ref, organisation=request.organisation,
        shares_concern=body.shares_concern, attachments=len(body.attachments), late=now.date() > request.due_on,
        answered_at=now,
    ), subject=str(case.subject_ref))
    if case.status in cases.WORKED:
        reassessments.mark_due(uow=uow, case=case, on=now.date(), reason="information_response")
    return agency_view(uow=uow, principal=principal, request=request, case=case, at=now)


def addressed(*, uow: UnitOfWork, principal: TenantPrincipal, request_id: uuid.UUID,
              now: datetime) -> AddressedRequest:
    """One request addressed to the partner's organisation (none about a withdrawn case), as its agreement lets
    the agency see it; refused without the consent the agreement requires. The disclosure is recorded."""
    request = repository.get(session=uow.session, request_id=request_id, organisation=principal.organisation or "")
    case = get_case(session=uow.session, case_id=request.case_id) if request is not None else None
    if request is None or case is None or case.status == "withdrawn":
        raise NotFound("No such information request addressed to your organisation.")
    sharing.require_consent(uow=uow, principal=principal, agreement=principal.agreement,
                            organisation=principal.organisation or "", subject_ref=case.subject_ref,
                            operation=INFORMATION_REQUESTS, at=now)
    return agency_view(uow=uow, principal=principal, request=request, case=case, at=now)


def agency_view(*, uow: UnitOfWork, principal: TenantPrincipal, request: InformationRequest, case: Case,
                at: datetime) -> AddressedRequest:
    """A request as the agency may see it (sharing.py), its disclosure recorded with the fields disclosed."""
    data = {key: getattr(request, key) for key in sharing.REQUEST_FIELDS}
    if not sharing.may_disclose(session=uow.session, agreement=principal.agreement,
                                organisation=principal.organisation, subject_ref=case.subject_ref, at=at):
        data.update(dict.fromkeys(sharing.ABOUT_THE_PERSON))
    view, disclosed = sharing.projected(principal.agreement, data, sharing.REQUEST_FIELDS,
                                        always=sharing.REQUEST_FRAME)
    access.record_case_read(uow=uow, principal=principal, case=case, resource=f"information-request/{request.id}",
                            fields=disclosed, purpose="information-gathering")
    return AddressedRequest.model_validate(view)


def staff_view(request: InformationRequest, *, today: date) -> InformationRequestView:
    """A request as the county's staff see it."""
    return InformationRequestView.model_validate(
        {**{c.key: getattr(request, c.key) for c in InformationRequest.__table__.columns},
         "overdue": request.status == "open" and request.due_on < today})


def _decide(*, uow: UnitOfWork, organisation: str, agreement_id: uuid.UUID | None, categories: list[str],
            on: date) -> Decision:
    """Whether an agreement (the one named, or any) lets the organisation receive a request for these categories."""
    party = Party("organisation", organisation)
    named = [a for a in agreements_of(session=uow.session)
             if a.names(party.kind, party.id) and agreement_id in (None, a.id)]
    if not named:
        return Decision(False, INFORMATION_REQUESTS, party, None, "no agreement with this organisation")
    wanted = set(categories)

    def refusal(agreement: Agreement) -> str | None:
        if not agreement.permits(INFORMATION_REQUESTS):
            return "the agreement does not permit information requests"
        if not agreement.in_force(on):
            return f"the agreement is {agreement.status} or out of its dates"
        if missing := sorted(wanted - {c.get("name") for c in agreement.terms.get("data_categories", ())}):
            return f"the agreement does not cover {', '.join(missing)}"
        return None

    fitting = [a for a in named if refusal(a) is None]
    if fitting:
        return Decision(True, INFORMATION_REQUESTS, party, max(fitting, key=lambda a: (a.valid_until, a.version)),
                        "in force")
    latest = max(named, key=lambda a: a.version)
    return Decision(False, INFORMATION_REQUESTS, party, latest, refusal(latest) or "not permitted")


def _record(*, uow: UnitOfWork, principal: TenantPrincipal, case: Case, request: InformationRequest) -> None:
    access.record_case_read(uow=uow, principal=principal, case=case, resource=f"information-request/{request.id}",
                            fields=("question", "data_categories", "due_on", "status", "answer"),
                            purpose="information-gathering")
