"""A plan follows its case to another county as far as the sending county's agreement lets it.

Assessment raises `case.transfer_accepted` in the receiving county under an agreement of the sender's
(`transfer_cases`), named in the event. The plan's content — its goals for each need, intervention
types and dates — moves only if that agreement, in interventions' copy, names the data category field
`plan`; providers never move (they are vetted by each county), so the receiver's plan starts as one
version of items without providers, which its staff assign in a new version.

In the sending county the open tasks stop (`case_transferred`: the providers see `stopped`), the plan
closes with the exit reason `relocation`, and its goals are minimised: the items' goals are blanked in
every version, as the sender no longer supports the person. Nothing else is published there:
monitoring counts the exit in the receiving county's closure, not twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from harambee_common.agreements import agreements_of
from harambee_common.catalogue.interventions import PlanTransferred, PlanVersioned
from harambee_common.db import UnitOfWork
from harambee_interventions.events import EVENTS
from harambee_interventions.flags import closing as flags
from harambee_interventions.models import Plan, PlanVersion
from harambee_interventions.plans import repository
from harambee_interventions.plans.service import end_task

PLAN_FIELD = "plan"
MOVED_ITEM_FIELDS = ("need", "goal", "intervention_type", "starts_on", "expected_end_on")


@dataclass(frozen=True)
class MovedPlan:
    """What of a plan moves to the receiving county."""

    plan_id: uuid.UUID
    subject_ref: uuid.UUID
    next_review_on: date
    items: list[dict]
    agreement_id: uuid.UUID
    agreement_version: int


def release_plan(*, uow: UnitOfWork, case_id: uuid.UUID, receiver: str, at: datetime, agreement_id: uuid.UUID,
                 agreement_version: int) -> MovedPlan | None:
    """In the sending county: stops and closes the plan; returns what may move (None: nothing may)."""
    plan = repository.plan_of_case(session=uow.session, case_id=case_id, for_update=True)
    if plan is None:
        return None
    tasks = repository.tasks_of_plan(session=uow.session, plan_id=plan.plan_id)
    current = [t for t in tasks if t.status == "open"]
    for task in current:
        end_task(uow=uow, task=task, status="stopped", reason="case_transferred", at=at)
    moved = None
    if plan.status == "active" and _permits(uow=uow, agreement_id=agreement_id, receiver=receiver, at=at):
        moved = MovedPlan(plan_id=uuid.uuid4(), subject_ref=plan.subject_ref, next_review_on=plan.next_review_on,
                          items=[{f: getattr(t, f) for f in MOVED_ITEM_FIELDS} for t in current],
                          agreement_id=agreement_id, agreement_version=agreement_version)
    if plan.status != "closed":
        plan.status, plan.exit_reason, plan.ended_at, plan.updated_at = "closed", "relocation", at, at
    for task in tasks:
        task.goal = ""
    uow.session.execute(sa.update(PlanVersion).where(PlanVersion.plan_id == plan.plan_id)
                        .values(items=sa.text("'[]'::jsonb")))
    flags.close_flags(uow=uow, case_id=case_id, kinds=None, action="work_stopped", actor="interventions", at=at)
    return moved


def receive_plan(*, uow: UnitOfWork, moved: MovedPlan, case_id: uuid.UUID, previous_case_id: uuid.UUID,
                 from_tenant: str, at: datetime) -> None:
    """In the receiving county: the plan as version 1, its items waiting for this county's providers."""
    items = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in item.items()} for item in moved.items]
    plan = Plan(plan_id=moved.plan_id, tenant_id=uow.tenant, case_id=case_id, subject_ref=moved.subject_ref,
                version=1, status="active", created_at=at, updated_at=at, next_review_on=moved.next_review_on)
    repository.add(session=uow.session, row=plan)
    repository.add(session=uow.session, row=PlanVersion(plan_id=plan.plan_id, version=1, tenant_id=uow.tenant,
                                                        items=items, made_at=at, made_by="interventions",
                                                        reason="transferred"))
    EVENTS.publish(uow, PlanTransferred(plan_id=plan.plan_id, case_id=case_id, previous_case_id=previous_case_id,
                                        subject_ref=plan.subject_ref, from_tenant=from_tenant,
                                        agreement_id=moved.agreement_id, agreement_version=moved.agreement_version),
                   subject=str(plan.subject_ref))
    EVENTS.publish(uow, PlanVersioned(
        plan_id=plan.plan_id, case_id=case_id, subject_ref=plan.subject_ref, version=1,
        intervention_types=sorted({i["intervention_type"] for i in items}), needs=sorted({i["need"] for i in items}),
        items=len(items), versioned_at=at,
    ), subject=str(plan.subject_ref))


def _permits(*, uow: UnitOfWork, agreement_id: uuid.UUID, receiver: str, at: datetime) -> bool:
    """Whether the sender's agreement (in this service's copy) lets the plan's content go to the receiver."""
    for agreement in agreements_of(session=uow.session):
        if agreement.id == agreement_id:
            return (agreement.in_force(at.date()) and agreement.permits("transfer_cases")
                    and agreement.names("tenant", receiver) and PLAN_FIELD in agreement.fields)
    return False
