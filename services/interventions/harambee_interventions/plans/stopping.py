"""Withdrawal stops the work at once: every open task of the case is stopped, and its plan with them.

Providers then see the task as `stopped` and nothing more (`tasks.views`); the plan stays for the
county to close with the reason `consent_withdrawn`, and its open flags are closed (`work_stopped`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from harambee_common.components import INTERVENTIONS
from harambee_common.db import UnitOfWork
from harambee_interventions.flags import closing as flags
from harambee_interventions.plans import repository
from harambee_interventions.plans.service import end_task


def stop_plan_of_case(*, uow: UnitOfWork, case_id: uuid.UUID, reason: str, at: datetime) -> None:
    """Stops every open task of the case's plan and the plan itself (nothing when it has no active plan)."""
    plan = repository.plan_of_case(session=uow.session, case_id=case_id, for_update=True)
    if plan is None or plan.status != "active":
        return
    for task in repository.tasks_of_plan(session=uow.session, plan_id=plan.plan_id, open_only=True):
        end_task(uow=uow, task=task, status="stopped", reason=reason, at=at)
    plan.status, plan.ended_at, plan.updated_at = "stopped", at, at
    flags.close_flags(uow=uow, case_id=case_id, kinds=None, action="work_stopped", actor=INTERVENTIONS.name, at=at)
