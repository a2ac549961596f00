"""Counts reads through every tenant's log and raises read-volume alerts, in bounded passes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from harambee_audit import read_volume
from harambee_audit.read_volume import AlertRule
from harambee_common.db import unit_of_work
from harambee_common.workers import PeriodicWorker

MAX_ENTRIES = 50_000  # per tenant per transaction: one aggregate query over at most this many entries


class ReadVolumeWatcher(PeriodicWorker):
    """Every `interval` seconds, counts the new entries of each tenant and raises the alerts they cause."""

    name = "audit-read-volume"

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        rule: AlertRule,
        interval: float,
        max_entries: int = MAX_ENTRIES,
        budget_seconds: float | None = None,
    ) -> None:
        super().__init__(interval=interval)
        self._sessions = sessions
        self._rule = rule
        self._max_entries = max_entries
        self._budget = budget_seconds if budget_seconds is not None else max(interval, 1.0)

    def run_once(self, *, now: datetime | None = None) -> int:
        """One pass, at most one batch per tenant and at most `budget_seconds` long; returns alerts raised."""
        started = time.monotonic()
        with self._sessions() as session, session.begin():
            tenants = read_volume.tenants_due(db_session=session)
        alerts = 0
        for tenant in tenants:
            if self.stopping or time.monotonic() - started > self._budget:
                break  # the rest waits for the next pass
            with unit_of_work(self._sessions, tenant) as uow:
                result = read_volume.count_and_alert(
                    uow=uow, rule=self._rule, now=now or datetime.now(UTC), max_entries=self._max_entries
                )
            alerts += result.alerts if result else 0
        return alerts
