"""Plans: made only for a consented case, each item tied to a need of its approved assessment.

A plan is versioned: every change (a new plan, a change, a review that changes it) makes an immutable
version (`plan_versions`) and publishes `plan.versioned`. An item is a task for one provider; a new
version keeps the tasks it names by `task_id` (their goal, end date and practitioner may change), opens
tasks for its new items, and ends the open tasks it leaves out (`task.stopped`, `plan_changed`). A
provider gets a new task only where it is vetted for the type and its vetting has not expired. A plan's
tasks are listed oldest first, those made together in the order the request gave them (`position`).

Reviews record each open goal met or not (a met goal completes its task), keep or change the plan,
set the next review (default: the tenant's interval) and may ask assessment for a reassessment
(`plan.reviewed`). Closure ends the open tasks, schedules the tenant's follow-ups and publishes
`case.closed`; its reason is never `relocation`, which only a transfer gives (`transfer`: the person moved
to another county, which takes the case and the plan over), so a closure for it is a 409 pointing there.
Each change closes the flags it answers (a review the overdue-review flag, closure all).
Staff reads of a plan are recorded (`access.recorded`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.interventions import CaseClosed, PlanReviewed, PlanVersioned, TaskStopped
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, NotFound, ValidationFailed, or_not_found
from harambee_interventions.cases import repository as cases
from harambee_interventions.events import EVENTS
from harambee_interventions.flags import closing as flags
from harambee_interventions.intervention_types import service as intervention_types
from harambee_interventions.models import FollowUp, KnownCase, Plan, PlanVersion, Review, SessionRecord, Task
from harambee_interventions.plans import repository
from harambee_interventions.plans.schemas import GoalOutcome, PlanItemIn
from harambee_interventions.providers import service as providers
from harambee_interventions.tenant_settings import service as tenant_settings

PLAN_FIELDS = ("plan_id", "version", "status", "items.need", "items.goal", "items.provider_id", "subject_ref")


class TransferRequired(Conflict):
    slug, title = "transfer-required", "A relocation closes support through the case's transfer"


@dataclass(frozen=True)
class PlanRecord:
    """A plan and its tasks."""

    plan: Plan
    tasks: list[Task]


def create(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, items: list[PlanItemIn],
           next_review_on: date | None, at: datetime) -> PlanRecord:
    """Makes a consented case's plan (409 before consent, after withdrawal, or when it has an active or closed one).

    A plan stopped by a withdrawal starts again here, as a new version, once the person consents anew.
    """
    case = _consented_case(uow=uow, case_id=case_id)
    review_on = next_review_on or tenant_settings.in_force(uow=uow).next_review(at.date())
    if review_on <= at.date():
        raise ValidationFailed("next_review_on must be after today.")
    plan = repository.plan_of_case(session=uow.session, case_id=case_id, for_update=True)
    if plan is not None and plan.status != "stopped":
        raise Conflict(f"The case has a plan already ({plan.status}): change an active one with PUT, "
                       "from the version you read.")
    if plan is None:
        plan = Plan(plan_id=uuid.uuid4(), tenant_id=uow.tenant, case_id=case_id, subject_ref=case.subject_ref,
                    version=0, status="active", created_at=at, updated_at=at, next_review_on=review_on)
        repository.add(session=uow.session, row=plan)
        reason = "created"
    else:
        plan.status, plan.ended_at, plan.next_review_on, reason = "active", None, review_on, "restarted"
    _new_version(uow=uow, principal=principal, plan=plan, case=case, items=items, reason=reason, at=at)
    return read_record(uow=uow, plan=plan)


def change(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, based_on_version: int,
           items: list[PlanItemIn], at: datetime) -> PlanRecord:
    """Makes a new version of an active plan from the version the client read (409 if it is not the current one)."""
    case = _consented_case(uow=uow, case_id=case_id)
    plan = _active_plan(uow=uow, case_id=case_id)
    if plan.version != based_on_version:
        raise Conflict(f"The plan is at version {plan.version}, not {based_on_version}: read it again.")
    _new_version(uow=uow, principal=principal, plan=plan, case=case, items=items, reason="changed", at=at)
    return read_record(uow=uow, plan=plan)


def read(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID) -> PlanRecord:
    """A case's plan with its tasks; the read is recorded."""
    plan = _read_plan(uow=uow, principal=principal, case_id=case_id, part="", fields=PLAN_FIELDS)
    return read_record(uow=uow, plan=plan)


def read_record(*, uow: UnitOfWork, plan: Plan) -> PlanRecord:
    """A plan with its tasks (no access record: for the caller that made the change)."""
    return PlanRecord(plan, repository.tasks_of_plan(session=uow.session, plan_id=plan.plan_id))


def versions(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, cursor: str | None,
             limit: int) -> Slice[PlanVersion]:
    """A page of the plan's versions, newest first; the read is recorded."""
    plan = _read_plan(uow=uow, principal=principal, case_id=case_id, part="/versions", fields=("items", "version"))
    return repository.list_versions(session=uow.session, plan_id=plan.plan_id, cursor=cursor, limit=limit)


def reviews(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, cursor: str | None,
            limit: int) -> Slice[Review]:
    """A page of the plan's reviews, newest first; the read is recorded."""
    plan = _read_plan(uow=uow, principal=principal, case_id=case_id, part="/reviews",
                      fields=("goals", "note", "next_review_on"))
    return repository.list_reviews(session=uow.session, plan_id=plan.plan_id, cursor=cursor, limit=limit)


def sessions(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, cursor: str | None,
             limit: int) -> Slice[SessionRecord]:
    """A page of the sessions providers recorded on the plan's tasks, newest first; the read is recorded."""
    plan = _read_plan(uow=uow, principal=principal, case_id=case_id, part="/sessions",
                      fields=("held_on", "attended", "note"))
    return repository.list_sessions(session=uow.session, plan_id=plan.plan_id, cursor=cursor, limit=limit)


def _read_plan(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, part: str,
               fields: Iterable[str]) -> Plan:
    """The case's plan (404 without one), the read of its `part` recorded first under the person's reference."""
    plan = or_not_found(repository.plan_of_case(session=uow.session, case_id=case_id), "The case has no plan.")
    EVENTS.record_access(uow, principal=principal, subject=str(plan.subject_ref),
                         resource=f"plan/{plan.plan_id}{part}", fields=fields, purpose="case-management")
    return plan


def review(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, reviewed_on: date,
           goals: list[GoalOutcome], items: list[PlanItemIn] | None, reassessment_requested: bool,
           next_review_on: date | None, note: str | None, at: datetime) -> Review:
    """Records a review of an active plan: goals met or not, the plan kept or changed, the next review."""
    plan = _active_plan(uow=uow, case_id=case_id)
    if reviewed_on > at.date():
        raise ValidationFailed("A review cannot be dated in the future.")
    open_tasks = {t.task_id: t for t in repository.tasks_of_plan(session=uow.session, plan_id=plan.plan_id,
                                                                  open_only=True)}
    if unknown := sorted(str(g.task_id) for g in goals if g.task_id not in open_tasks):
        raise ValidationFailed(f"Not an open task of this plan: {', '.join(unknown)}.")
    if len({g.task_id for g in goals}) != len(goals):
        raise ValidationFailed("Each task's goal may be judged once per review.")
    review_on = next_review_on or tenant_settings.in_force(uow=uow).next_review(reviewed_on)
    if review_on <= reviewed_on:
        raise ValidationFailed("next_review_on must be after the review.")
    for outcome in goals:
        if outcome.met:
            task = open_tasks[outcome.task_id]
            task.status, task.ended_at = "completed", at
    if items is not None:
        case = _consented_case(uow=uow, case_id=case_id)
        _new_version(uow=uow, principal=principal, plan=plan, case=case, items=items, reason="review", at=at)
    plan.prior_reviewed_at, plan.last_reviewed_at = plan.last_reviewed_at, at
    plan.next_review_on, plan.updated_at = review_on, at
    record = Review(review_id=uuid.uuid4(), tenant_id=uow.tenant, plan_id=plan.plan_id, case_id=case_id,
                    reviewed_on=reviewed_on, goals=[g.model_dump(mode="json") for g in goals],
                    plan_version=plan.version, plan_changed=items is not None,
                    reassessment_requested=reassessment_requested, next_review_on=review_on, note=note,
                    recorded_at=at, recorded_by=principal.actor)
    repository.add(session=uow.session, row=record)
    EVENTS.publish(uow, PlanReviewed(
        review_id=record.review_id, case_id=case_id, subject_ref=plan.subject_ref,
        goals_met=sum(g.met for g in goals), goals_not_met=sum(not g.met for g in goals),
        plan_changed=record.plan_changed, reassessment_requested=reassessment_requested,
        next_review_on=review_on, reviewed_at=at,
    ), subject=str(plan.subject_ref))
    flags.close_flags(uow=uow, case_id=case_id, kinds=("review_overdue",), action="review_held",
                      actor=principal.actor, at=at)
    return record


def close(*, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, exit_reason: str,
          closing_report: str, at: datetime) -> PlanRecord:
    """Closes the case's support: open tasks end, follow-ups are scheduled, `case.closed` is published."""
    plan = or_not_found(repository.plan_of_case(session=uow.session, case_id=case_id, for_update=True),
                        "The case has no plan.")
    if plan.status == "closed":
        raise Conflict("The case is closed already.")
    if exit_reason == "relocation":
        raise TransferRequired(
            "Support ends for relocation only with a transfer: propose the case's transfer to the county the person "
            "moved to (POST /assessment/v1/tenants/{tenant}/cases/{case_id}/transfers); when that county accepts it, "
            "the plan closes here with the reason relocation and follows the case.")
    for task in repository.tasks_of_plan(session=uow.session, plan_id=plan.plan_id, open_only=True):
        end_task(uow=uow, task=task, status="ended", reason="case_closed", at=at)
    plan.status, plan.exit_reason, plan.closing_report = "closed", exit_reason, closing_report
    plan.ended_at = plan.updated_at = at
    due = tenant_settings.in_force(uow=uow).follow_ups(at.date())
    for months, due_on in due:
        repository.add(session=uow.session, row=FollowUp(
            follow_up_id=uuid.uuid4(), tenant_id=uow.tenant, plan_id=plan.plan_id, case_id=case_id,
            subject_ref=plan.subject_ref, months_after_exit=months, due_on=due_on))
    EVENTS.publish(uow, CaseClosed(case_id=case_id, subject_ref=plan.subject_ref, exit_reason=exit_reason,
                                   follow_ups_due=[d for _, d in due], closed_at=at), subject=str(plan.subject_ref))
    flags.close_flags(uow=uow, case_id=case_id, kinds=None, action="case_closed", actor=principal.actor, at=at)
    return read_record(uow=uow, plan=plan)


def end_task(*, uow: UnitOfWork, task: Task, status: str, reason: str, at: datetime) -> None:
    """Ends an open task (ended or stopped) and tells its provider's audience: `task.stopped`."""
    task.status, task.stop_reason, task.ended_at = status, reason, at
    EVENTS.publish(uow, TaskStopped(task_id=task.task_id, case_id=task.case_id, subject_ref=task.subject_ref,
                                    provider=task.provider_id, reason=reason, stopped_at=at),
                   subject=str(task.subject_ref))


def _consented_case(*, uow: UnitOfWork, case_id: uuid.UUID) -> KnownCase:
    case = or_not_found(cases.get_known_case(session=uow.session, case_id=case_id), "No such case.")
    if case.consent_id is None:
        why = "consent was withdrawn" if case.withdrawn_at else "the case has no consent to support yet"
        raise Conflict(f"No plan can be made or changed: {why}.")
    return case


def _active_plan(*, uow: UnitOfWork, case_id: uuid.UUID) -> Plan:
    plan = repository.plan_of_case(session=uow.session, case_id=case_id, for_update=True)
    if plan is None:
        raise NotFound("The case has no plan.")
    if plan.status != "active":
        raise Conflict(f"The plan is {plan.status}.")
    return plan


def _new_version(*, uow: UnitOfWork, principal: TenantPrincipal, plan: Plan, case: KnownCase,
                 items: list[PlanItemIn], reason: str, at: datetime) -> None:
    """Applies a version's items to the plan's tasks, stores the version and publishes it."""
    if unknown := sorted({i.need for i in items} - set(case.needs)):
        raise ValidationFailed(f"Not a need of the case's approved assessment: {', '.join(unknown)}.")
    intervention_types.require_active(uow=uow, codes={i.intervention_type for i in items})
    open_tasks = {t.task_id: t for t in repository.tasks_of_plan(session=uow.session, plan_id=plan.plan_id,
                                                                  open_only=True)}
    kept_ids = [i.task_id for i in items if i.task_id is not None]
    if len(set(kept_ids)) != len(kept_ids):
        raise ValidationFailed("An open task may be kept by one item only.")
    references = {t.provider_id: t.reference for t in repository.tasks_of_plan(session=uow.session,
                                                                                plan_id=plan.plan_id)}
    today, tasks = at.date(), []
    for position, item in enumerate(items):
        if item.task_id is None:
            providers.require_assignable(uow=uow, provider_id=item.provider_id, practitioner_id=item.practitioner_id,
                                         intervention_type=item.intervention_type, starts_on=item.starts_on,
                                         today=today)
            task = Task(task_id=uuid.uuid4(), tenant_id=uow.tenant, plan_id=plan.plan_id, case_id=plan.case_id,
                        subject_ref=plan.subject_ref,
                        reference=references.setdefault(item.provider_id, uuid.uuid4()),
                        need=item.need, goal=item.goal, intervention_type=item.intervention_type,
                        provider_id=item.provider_id, practitioner_id=item.practitioner_id, starts_on=item.starts_on,
                        expected_end_on=item.expected_end_on, status="open", position=position, created_at=at)
            repository.add(session=uow.session, row=task)
        else:
            task = _kept(uow=uow, task=open_tasks.get(item.task_id), item=item, today=today)
        tasks.append(task)
    for task_id, task in open_tasks.items():
        if task_id not in kept_ids:
            end_task(uow=uow, task=task, status="ended", reason="plan_changed", at=at)
    plan.version += 1
    plan.updated_at = at
    repository.add(session=uow.session, row=PlanVersion(
        plan_id=plan.plan_id, version=plan.version, tenant_id=uow.tenant, made_at=at, made_by=principal.actor,
        reason=reason, items=[_snapshot(t) for t in tasks]))
    EVENTS.publish(uow, PlanVersioned(
        plan_id=plan.plan_id, case_id=plan.case_id, subject_ref=plan.subject_ref, version=plan.version,
        intervention_types=sorted({t.intervention_type for t in tasks}), needs=sorted({t.need for t in tasks}),
        items=len(tasks), versioned_at=at,
    ), subject=str(plan.subject_ref))


def _kept(*, uow: UnitOfWork, task: Task | None, item: PlanItemIn, today: date) -> Task:
    """An open task a new version keeps: what may change (goal, end, practitioner) changes."""
    if task is None:
        raise ValidationFailed(f"Not an open task of this plan: {item.task_id}.")
    if (task.need, task.intervention_type, task.provider_id, task.starts_on) != (
            item.need, item.intervention_type, item.provider_id, item.starts_on):
        raise ValidationFailed(f"Task {task.task_id} keeps its need, type, provider and start; "
                               "give a new item (without task_id) for other support.")
    if item.practitioner_id != task.practitioner_id:
        providers.require_assignable(uow=uow, provider_id=task.provider_id, practitioner_id=item.practitioner_id,
                                     intervention_type=task.intervention_type, starts_on=today, today=today)
    task.goal, task.expected_end_on, task.practitioner_id = item.goal, item.expected_end_on, item.practitioner_id
    return task


def _snapshot(task: Task) -> dict[str, str | None]:
    return {"task_id": str(task.task_id), "need": task.need, "goal": task.goal,
            "intervention_type": task.intervention_type, "provider_id": str(task.provider_id),
            "practitioner_id": str(task.practitioner_id) if task.practitioner_id else None,
            "starts_on": task.starts_on.isoformat(), "expected_end_on": task.expected_end_on.isoformat()}
