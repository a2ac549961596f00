"""Retention: referrals past their time are minimised, and people no longer needed are erased.

Per tenant and per outcome (the tenant's `retention` setting; by default no-further-action after
90 days and signposted after 180), a referral loses everything the referrer and screener wrote,
keeping only its coded skeleton for the programme's figures. A person whose every referral is
minimised, with no active consent and no open rights request, is erased (crypto-shredded).
Each run is bounded in work and reports what it did.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from harambee_common.db import UnitOfWork, unit_of_work
from harambee_intake import repository, rights, tenant_settings
from harambee_intake.events import event
from harambee_intake.models import RetentionRun
from harambee_intake.problems import InvalidState

log = logging.getLogger(__name__)

OUTCOMES = {"no_further_action": "no_further_action_days", "signpost": "signpost_days",
            "escalate": "escalate_days"}
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
            uow.publish(event("referral.minimised", uow, subject=str(referral.subject_id), data={
                "referral_id": str(referral.id), "subject_ref": str(referral.subject_id), "outcome": outcome}))
        repository.clear_screening_notes(session=uow.session, referral_ids=[r.id for r in due])
        minimised[outcome] = len(due)

    erased = 0
    roots = set(repository.roots(session=uow.session, subject_ids=list(touched)).values())
    for root in sorted(roots):
        members = repository.tree(session=uow.session, root=root)
        if repository.count_unminimised(session=uow.session, subject_ids=members):
            continue
        if repository.holds_for(session=uow.session, subject_ids=members, at=now):
            continue
        try:
            erased += len(rights.erase_members(uow=uow, root=root, members=members, actor=actor,
                                               cause="retention").erased)
        except InvalidState:
            continue  # already erased
    purged = repository.purge_idempotency_keys(session=uow.session, before=now - IDEMPOTENCY_TTL)
    report: dict[str, Any] = {
        "policy": policy.model_dump(),
        "referrals_minimised": minimised,
        "subjects_erased": erased,
        "idempotency_keys_purged": purged,
        "more_remaining": more,
    }
    record = RetentionRun(id=uuid.uuid4(), tenant_id=uow.tenant, ran_at=now, ran_by=actor, report=report)
    repository.add_retention_run(session=uow.session, run=record)
    uow.publish(event("retention.applied", uow, subject="retention",
                      data={"run_id": str(record.id), **{k: v for k, v in report.items() if k != "policy"}}))
    return record


def runs(*, uow: UnitOfWork, limit: int) -> list[RetentionRun]:
    """The tenant's latest retention runs."""
    return repository.list_retention_runs(session=uow.session, limit=limit)


class RetentionScheduler:
    """Runs retention in every tenant every INTAKE_RETENTION_INTERVAL_SECONDS (0 turns it off)."""

    def __init__(self, *, sessions: sessionmaker[Session], interval: float, max_tenants: int = 1000) -> None:
        self._sessions = sessions
        self.interval = interval
        self._max_tenants = max_tenants
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    @classmethod
    def from_env(cls, sessions: sessionmaker[Session]) -> RetentionScheduler:
        """The scheduler configured by the environment (daily by default)."""
        return cls(sessions=sessions, interval=float(os.environ.get("INTAKE_RETENTION_INTERVAL_SECONDS", "86400")))

    def start(self) -> None:
        """Starts the schedule (the first run after one interval)."""
        if self.interval > 0:
            self._thread.start()

    def stop(self) -> None:
        """Stops after the tenant in progress."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_all()
            except Exception as exc:  # a database outage: the next interval tries again
                log.warning("retention: %s", type(exc).__name__)

    def run_all(self) -> int:
        """One run in each tenant; returns how many tenants ran."""
        with self._sessions() as session:
            tenants = repository.all_tenants(session=session, limit=self._max_tenants)
        for tenant in tenants:
            if self._stop.is_set():
                break
            with unit_of_work(self._sessions, tenant) as uow:
                run(uow=uow, actor="retention-scheduler")
        return len(tenants)
