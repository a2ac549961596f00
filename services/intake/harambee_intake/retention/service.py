"""Retention: referrals past their time are minimised, and people no longer needed are erased.

Per tenant and per outcome (the tenant's `retention` setting; by default no-further-action after
90 days and signposted after 180), a referral loses everything the referrer and screener wrote,
keeping only its coded skeleton for the programme's figures. A person whose every referral is
minimised, with no active consent and no open rights request, is erased (crypto-shredded) — unless
an exact match makes them a duplicate candidate an officer has not decided on: erasing one side would
decide it (the other referral could never be joined to this person's history), so the erasure waits
for the officer's merge or dismissal, and the run's report lists who waits. Each later run looks at
such people again. Each run is bounded in work and reports what it did.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from harambee_common.catalogue.intake import ReferralMinimised, RetentionApplied
from harambee_common.db import UnitOfWork, unit_of_work
from harambee_common.service_app import ServiceContext, WorkerFactory
from harambee_common.workers import PeriodicWorker
from harambee_intake.events import EVENTS
from harambee_intake.models import RetentionRun
from harambee_intake.problems import InvalidState
from harambee_intake.referrals import repository as referrals_repository
from harambee_intake.retention import repository
from harambee_intake.rights import service as rights
from harambee_intake.screening import repository as screening_repository
from harambee_intake.subjects import repository as subjects_repository
from harambee_intake.tenant_settings import service as tenant_settings

OUTCOMES = {"no_further_action": "no_further_action_days", "signpost": "signpost_days",
            "escalate": "escalate_days"}
# The reason recorded with an erasure the schedule makes.
RETENTION_REASON = "Retention: every referral minimised, and no active consent or open rights request."
IDEMPOTENCY_TTL = timedelta(hours=float(os.environ.get("INTAKE_IDEMPOTENCY_TTL_HOURS", "24")))


def run(*, uow: UnitOfWork, actor: str, batch: int = 500, now: datetime | None = None) -> RetentionRun:
    """One retention run in the unit of work's tenant: at most `batch` referrals per outcome."""
    now = now or datetime.now(UTC)
    policy = tenant_settings.typed(uow=uow, name="retention")
    minimised: dict[str, int] = {}
    touched: set[uuid.UUID] = set()
    more = False
    for outcome, field in OUTCOMES.items():
        days = getattr(policy, field)
        if days is None:
            continue
        due = repository.referrals_to_minimise(session=uow.session, outcome=outcome,
                                               before=now - timedelta(days=days), limit=batch)
        more = more or len(due) == batch
        for referral in due:
            referral.sealed, referral.concern, referral.minimised_at = None, None, now
            referral.touch()
            touched.add(referral.subject_id)
            EVENTS.publish(uow, ReferralMinimised(referral_id=referral.id, subject_ref=referral.subject_id,
                                                  outcome=outcome), subject=str(referral.subject_id))
        screening_repository.clear_screening_notes(session=uow.session, referral_ids=[r.id for r in due])
        minimised[outcome] = len(due)

    erased = 0
    waiting: list[str] = []
    touched.update(repository.fully_minimised_subjects(session=uow.session, limit=batch))
    roots = set(subjects_repository.roots(session=uow.session, subject_ids=list(touched)).values())
    for root in sorted(roots):
        members = subjects_repository.tree(session=uow.session, root=root)
        if repository.count_unminimised(session=uow.session, subject_ids=members):
            continue
        if repository.holds_for(session=uow.session, subject_ids=members, at=now):
            continue
        if repository.awaiting_duplicate_decision(session=uow.session, subject_ids=members):
            waiting.append(str(root))
            continue
        try:
            erased += len(rights.erase_members(uow=uow, root=root, members=members, actor=actor,
                                               cause="retention", reason=RETENTION_REASON).erased)
        except InvalidState:
            continue  # already erased
    purged = referrals_repository.purge_idempotency_keys(session=uow.session, before=now - IDEMPOTENCY_TTL)
    report: dict[str, Any] = {
        "policy": policy.model_dump(),
        "referrals_minimised": minimised,
        "subjects_erased": erased,
        # Pseudonymous references: the officer merges or dismisses their exact-match candidates, then they go.
        "subjects_awaiting_duplicate_decision": waiting,
        "idempotency_keys_purged": purged,
        "more_remaining": more,
    }
    record = RetentionRun(id=uuid.uuid4(), tenant_id=uow.tenant, ran_at=now, ran_by=actor, report=report)
    repository.add_retention_run(session=uow.session, run=record)
    EVENTS.publish(uow, RetentionApplied(run_id=record.id, referrals_minimised=minimised, subjects_erased=erased,
                                         subjects_awaiting_duplicate_decision=len(waiting),
                                         idempotency_keys_purged=purged, more_remaining=more), subject="retention")
    return record


def runs(*, uow: UnitOfWork, limit: int) -> list[RetentionRun]:
    """The tenant's latest retention runs."""
    return repository.list_retention_runs(session=uow.session, limit=limit)


class RetentionScheduler(PeriodicWorker):
    """Runs retention in every tenant, every interval (the first run after one interval)."""

    name = "retention"

    def __init__(self, *, sessions: sessionmaker[Session], interval: float, max_tenants: int = 1000) -> None:
        super().__init__(interval=interval, stop_timeout=30)
        self._sessions = sessions
        self._max_tenants = max_tenants

    @classmethod
    def factory(cls, *, interval: float) -> WorkerFactory:
        """Builds the scheduler on the app's sessions when the app starts."""
        def build(context: ServiceContext) -> RetentionScheduler:
            return cls(sessions=context.sessions, interval=interval)
        return build

    def run_once(self) -> int:
        """One run in each tenant; returns how many tenants ran."""
        with self._sessions() as session:
            tenants = repository.all_tenants(session=session, limit=self._max_tenants)
        for tenant in tenants:
            if self.stopping:
                break
            with unit_of_work(self._sessions, tenant) as uow:
                run(uow=uow, actor="retention-scheduler")
        return len(tenants)
