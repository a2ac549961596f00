"""Assessments: draft -> submitted -> approved -> superseded by the next approved one.

Several assessors contribute to a draft, each contribution attributed; the assessment's ratings are the
latest rating of each item. Submission needs a summary conclusion, the needs identified (codes of the
tenant's needs screen) and a management plan. Approval, where the tenant asks for four eyes (the
default), is by someone who is not an author: not who started, contributed to or submitted it.
The view carries the item-by-item change since the previous approved assessment; there is no score.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from harambee_assessment import access, settings
from harambee_assessment import service as cases
from harambee_assessment.assessments import changes, repository
from harambee_assessment.assessments.schemas import AssessmentView, ContributionView, Rating
from harambee_assessment.events import EVENTS
from harambee_assessment.frameworks import service as frameworks
from harambee_assessment.models import Assessment, Case, Contribution
from harambee_assessment.reassessments import service as reassessments
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.assessment import (
    AssessmentApproved,
    AssessmentReturned,
    AssessmentStarted,
    AssessmentSubmitted,
)
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, Forbidden, ValidationFailed, or_not_found


class FourEyesRefused(Forbidden):
    slug, title = "four-eyes", "An assessment is approved by someone who is not one of its authors"


def start(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, framework_id: uuid.UUID,
          framework_version: int | None, now: datetime) -> AssessmentView:
    """Starts a draft of the case's next assessment; 409 while another is in the making."""
    case = cases.workable_case(uow=uow, principal=principal, case_id=case_id)
    frameworks.ensure_starters(uow=uow)
    version, _ = frameworks.published_definition(uow=uow, framework_id=framework_id, version=framework_version)
    if repository.in_the_making(session=uow.session, case_id=case.id) is not None:
        raise Conflict("The case already has an assessment in the making: contribute to it.")
    assessment = Assessment(id=uuid.uuid4(), tenant_id=uow.tenant, case_id=case.id, framework_id=version.framework_id,
                            framework_version=version.version, status="draft", ratings={}, needs=[],
                            started_by=principal.actor, started_at=now)
    repository.add(session=uow.session, row=assessment)
    EVENTS.publish(uow, AssessmentStarted(assessment_id=assessment.id, case_id=case.id, subject_ref=case.subject_ref,
                                          framework_id=assessment.framework_id,
                                          framework_version=assessment.framework_version, actor=principal.actor),
                   subject=str(case.subject_ref))
    return views(uow=uow, principal=principal, cases={case.id: case}, assessments=[assessment])[0]


def contribute(*, uow: UnitOfWork, principal: TenantPrincipal, assessment_id: uuid.UUID,
               ratings: dict[str, str], note: str | None, now: datetime) -> AssessmentView:
    """Adds an attributed contribution to a draft; an unknown item or off-scale rating is a 422 naming the item."""
    case, assessment = _in_state(uow=uow, principal=principal, assessment_id=assessment_id, state="draft")
    definition = frameworks.definition_of(uow=uow, framework_id=assessment.framework_id,
                                          version=assessment.framework_version)
    if errors := definition.rating_errors(ratings):
        raise ValidationFailed(f"Item '{errors[0]['item']}': {errors[0]['message']}", errors=errors)
    if not ratings and note is None:
        raise ValidationFailed("A contribution gives ratings, a note or both.")
    repository.add(session=uow.session, row=Contribution(
        id=uuid.uuid4(), tenant_id=uow.tenant, assessment_id=assessment.id, author=principal.actor,
        organisation=principal.organisation, ratings=ratings, note=note, contributed_at=now))
    stamp = {"by": principal.actor, "at": now.isoformat()}
    assessment.ratings = {**assessment.ratings, **{item: {"rating": r, **stamp} for item, r in ratings.items()}}
    return views(uow=uow, principal=principal, cases={case.id: case}, assessments=[assessment])[0]


def submit(*, uow: UnitOfWork, principal: TenantPrincipal, assessment_id: uuid.UUID, summary: str,
           needs: list[str], management_plan: str, now: datetime) -> AssessmentView:
    """Submits a draft for approval with its summary, needs (needs-screen codes) and management plan."""
    case, assessment = _in_state(uow=uow, principal=principal, assessment_id=assessment_id, state="draft")
    known = frameworks.need_codes(uow=uow)
    if unknown := sorted(set(needs) - known):
        raise ValidationFailed(f"Need '{unknown[0]}' is not an item of the tenant's needs screen.",
                               errors=[{"need": n, "message": "Not an item of the needs screen."} for n in unknown])
    if not assessment.ratings:
        raise ValidationFailed("An assessment is submitted with at least one rating.")
    assessment.summary, assessment.management_plan, assessment.needs = summary, management_plan, sorted(set(needs))
    assessment.status, assessment.submitted_by, assessment.submitted_at = "submitted", principal.actor, now
    authors = _authors(assessment, repository.contributions_of(session=uow.session, assessment_ids=[assessment.id]))
    EVENTS.publish(uow, AssessmentSubmitted(assessment_id=assessment.id, case_id=case.id, subject_ref=case.subject_ref,
                                            needs=assessment.needs, authors=len(authors), actor=principal.actor),
                   subject=str(case.subject_ref))
    return views(uow=uow, principal=principal, cases={case.id: case}, assessments=[assessment])[0]


def approve(*, uow: UnitOfWork, principal: TenantPrincipal, assessment_id: uuid.UUID, now: datetime) -> AssessmentView:
    """Approves a submitted assessment (four eyes where the tenant asks); the previous approved one is superseded."""
    case, assessment = _in_state(uow=uow, principal=principal, assessment_id=assessment_id, state="submitted")
    contributions = repository.contributions_of(session=uow.session, assessment_ids=[assessment.id])
    if settings.current(uow=uow).four_eyes and principal.actor in _authors(assessment, contributions):
        raise FourEyesRefused("You contributed to this assessment: another person must approve it.")
    previous = repository.approved_of(session=uow.session, case_id=case.id)
    if previous is not None:
        previous.status, previous.superseded_by = "superseded", assessment.id
        uow.session.flush()  # one approved assessment per case: the old one steps aside first
    assessment.status, assessment.approved_by, assessment.approved_at = "approved", principal.actor, now
    assessment.supersedes = previous.id if previous is not None else None
    reassessments.clear_due(case=case)
    view = views(uow=uow, principal=principal, cases={case.id: case}, assessments=[assessment])[0]
    concerns, concerns_down, concerns_up = view.changes.of_kind("concerns")
    strengths, strengths_up, strengths_down = view.changes.of_kind("strengths")
    EVENTS.publish(uow, AssessmentApproved(
        assessment_id=assessment.id, case_id=case.id, subject_ref=case.subject_ref,
        framework_id=assessment.framework_id, framework_version=assessment.framework_version,
        needs=assessment.needs, supersedes=assessment.supersedes,
        items_compared=len(view.changes.items), items_improved=view.changes.improved,
        items_worsened=view.changes.worsened, concerns_compared=concerns, concerns_down=concerns_down,
        concerns_up=concerns_up, strengths_compared=strengths, strengths_up=strengths_up,
        strengths_down=strengths_down, approved_at=now,
    ), subject=str(case.subject_ref))
    return view


def send_back(*, uow: UnitOfWork, principal: TenantPrincipal, assessment_id: uuid.UUID, reason: str) -> AssessmentView:
    """A reviewer returns a submitted assessment to its authors as a draft, saying why."""
    case, assessment = _in_state(uow=uow, principal=principal, assessment_id=assessment_id, state="submitted")
    assessment.status, assessment.returned_reason = "draft", reason
    assessment.submitted_by = assessment.submitted_at = None
    EVENTS.publish(uow, AssessmentReturned(assessment_id=assessment.id, case_id=case.id, subject_ref=case.subject_ref,
                                           actor=principal.actor), subject=str(case.subject_ref))
    return views(uow=uow, principal=principal, cases={case.id: case}, assessments=[assessment])[0]


def read(*, uow: UnitOfWork, principal: TenantPrincipal, assessment_id: uuid.UUID) -> AssessmentView:
    """One assessment of a case the principal may read; the read is recorded."""
    assessment = or_not_found(repository.get(session=uow.session, assessment_id=assessment_id),
                              "No such assessment.")
    case = cases.readable_case(uow=uow, principal=principal, case_id=assessment.case_id)
    return views(uow=uow, principal=principal, cases={case.id: case}, assessments=[assessment])[0]


def history(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, cursor: str | None,
            limit: int) -> Slice[AssessmentView]:
    """A page of a case's assessments, newest first; each read is recorded."""
    case = cases.readable_case(uow=uow, principal=principal, case_id=case_id)
    page = repository.history(session=uow.session, case_id=case.id, cursor=cursor, limit=limit)
    return Slice(rows=views(uow=uow, principal=principal, cases={case.id: case}, assessments=page.rows),
                 next_cursor=page.next_cursor)


def _in_state(*, uow: UnitOfWork, principal: TenantPrincipal, assessment_id: uuid.UUID,
              state: str) -> tuple[Case, Assessment]:
    assessment = or_not_found(repository.get(session=uow.session, assessment_id=assessment_id, for_update=True),
                              "No such assessment.")
    case = cases.workable_case(uow=uow, principal=principal, case_id=assessment.case_id)
    if assessment.status != state:
        raise Conflict(f"The assessment is {assessment.status}, not {state}.")
    return case, assessment


def _authors(assessment: Assessment, contributions: list[Contribution]) -> set[str]:
    return {assessment.started_by, *(c.author for c in contributions),
            *([assessment.submitted_by] if assessment.submitted_by else [])}


def views(*, uow: UnitOfWork, principal: TenantPrincipal, cases: dict[uuid.UUID, Case],
          assessments: list[Assessment]) -> list[AssessmentView]:
    """The assessments (of these cases) as their readers see them, each read recorded, each compared with the
    previous approved one; a few queries for the whole list, whatever its length."""
    contributions = repository.contributions_of(session=uow.session, assessment_ids=[a.id for a in assessments])
    in_the_making = [a.case_id for a in assessments if a.status in ("draft", "submitted")]
    approved = {a.case_id: a for a in repository.approved_of_cases(session=uow.session, case_ids=in_the_making)}
    previous_ids = [a.supersedes for a in assessments if a.supersedes is not None]
    previous = {p.id: p for p in repository.get_many(session=uow.session, assessment_ids=previous_ids)}
    result = []
    for assessment in assessments:
        # An approved or superseded assessment is compared with the one it superseded; one in the
        # making with the case's approved assessment, which it is to replace.
        if assessment.status in ("approved", "superseded"):
            before = previous.get(assessment.supersedes) if assessment.supersedes else None
        else:
            before = approved.get(assessment.case_id)
        result.append(_view(uow=uow, assessment=assessment, before=before,
                            contributions=[c for c in contributions if c.assessment_id == assessment.id]))
        access.record_case_read(uow=uow, principal=principal, case=cases[assessment.case_id],
                                resource=f"assessment/{assessment.id}",
                                fields=("ratings", "summary", "needs", "management_plan", "contributions"))
    return result


def _view(*, uow: UnitOfWork, assessment: Assessment, before: Assessment | None,
          contributions: list[Contribution]) -> AssessmentView:
    current = frameworks.definition_of(uow=uow, framework_id=assessment.framework_id,
                                       version=assessment.framework_version)
    earlier = (frameworks.definition_of(uow=uow, framework_id=before.framework_id, version=before.framework_version)
               if before is not None else None)
    change = changes.compare(previous_id=str(before.id) if before else None,
                             previous=before.ratings if before else {}, previous_definition=earlier,
                             current=assessment.ratings, current_definition=current)
    return AssessmentView(
        id=assessment.id, case_id=assessment.case_id, framework_id=assessment.framework_id,
        framework_version=assessment.framework_version, status=assessment.status,
        ratings={k: Rating.model_validate(v) for k, v in assessment.ratings.items()},
        summary=assessment.summary, needs=list(assessment.needs), management_plan=assessment.management_plan,
        started_by=assessment.started_by, started_at=assessment.started_at, submitted_by=assessment.submitted_by,
        submitted_at=assessment.submitted_at, approved_by=assessment.approved_by, approved_at=assessment.approved_at,
        supersedes=assessment.supersedes, superseded_by=assessment.superseded_by,
        returned_reason=assessment.returned_reason,
        contributions=[ContributionView.model_validate(c) for c in contributions], changes=change,
    )
