"""The checks that find stalled plans, one set-based statement each, run in one tenant's transaction.

- `no_recent_session`: an open task with no session for the tenant's `stall_days` (counted from its
  start until its first session);
- `vetting_expired`: an open task whose provider's vetting for its type has expired;
- `goal_without_progress`: an open task (set at or before the plan's last review) with no progress since it, once
  that review is `stall_days` old;
- `review_overdue`: an active plan past its next review date;
- `follow_up_due`: a follow-up after closure that is due and not yet recorded.

A flag is raised once per matter: not while one of its kind is open on the same task, plan or follow-up,
nor within `stall_days` of the last one's closure (the action taken gets that long to work). Each new
flag publishes `flag.raised`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from harambee_common.catalogue.interventions import FlagRaised
from harambee_common.db import UnitOfWork
from harambee_interventions.events import EVENTS
from harambee_interventions.tenant_settings import service as tenant_settings

# Each check: the kind, then FROM ... WHERE selecting target_id, case_id, subject_ref, task_id.
CHECKS = {
    "no_recent_session": """
        SELECT t.task_id, t.case_id, t.subject_ref, t.task_id FROM tasks t
        WHERE t.status = 'open' AND coalesce(t.last_session_on, t.starts_on) < :stall_before
    """,
    "vetting_expired": """
        SELECT t.task_id, t.case_id, t.subject_ref, t.task_id FROM tasks t
        JOIN vettings v ON v.provider_id = t.provider_id AND v.intervention_type = t.intervention_type
        WHERE t.status = 'open' AND v.expires_on < :today
    """,
    "goal_without_progress": """
        SELECT t.task_id, t.case_id, t.subject_ref, t.task_id FROM tasks t
        JOIN plans p ON p.plan_id = t.plan_id
        WHERE t.status = 'open' AND p.last_reviewed_at < :quiet_since AND t.created_at <= p.last_reviewed_at
          AND (t.last_progress_at IS NULL OR t.last_progress_at < p.last_reviewed_at)
    """,
    "review_overdue": """
        SELECT p.plan_id, p.case_id, p.subject_ref, NULL::uuid FROM plans p
        WHERE p.status = 'active' AND p.next_review_on < :today
    """,
    "follow_up_due": """
        SELECT f.follow_up_id, f.case_id, f.subject_ref, NULL::uuid FROM follow_ups f
        WHERE f.recorded_at IS NULL AND f.due_on <= :today
    """,
}

_RAISE = """
    INSERT INTO flags (flag_id, tenant_id, kind, target_id, case_id, subject_ref, task_id, raised_at)
    SELECT gen_random_uuid(), :tenant, :kind, found.target_id, found.case_id, found.subject_ref, found.task_id, :now
    FROM ({query}) AS found(target_id, case_id, subject_ref, task_id)
    WHERE NOT EXISTS (
        SELECT 1 FROM flags f
        WHERE f.tenant_id = :tenant AND f.target_id = found.target_id AND f.kind = :kind
          AND (f.closed_at IS NULL OR f.closed_at > :quiet_since)
    )
    ON CONFLICT DO NOTHING
    RETURNING flag_id, case_id, subject_ref, task_id
"""
STATEMENTS = {kind: sa.text(_RAISE.format(query=query)) for kind, query in CHECKS.items()}


def check_tenant(*, uow: UnitOfWork, now: datetime) -> int:
    """Runs every check in the unit of work's tenant; returns how many flags it raised."""
    settings = tenant_settings.in_force(uow=uow)
    today = now.date()
    parameters = {"tenant": uow.tenant, "now": now, "today": today,
                  "stall_before": today - timedelta(days=settings.stall_days),
                  "quiet_since": now - timedelta(days=settings.stall_days)}
    raised = 0
    for kind, statement in STATEMENTS.items():
        for flag_id, case_id, subject_ref, task_id in uow.session.execute(statement, {**parameters, "kind": kind}):
            EVENTS.publish(uow, FlagRaised(flag_id=flag_id, kind=kind, case_id=case_id, subject_ref=subject_ref,
                                           task_id=task_id, raised_at=now), subject=str(subject_ref))
            raised += 1
    return raised
