"""The scheduled flag check: every interval, the checks run in each tenant that has open plans or follow-ups."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from harambee_common.clock import Clock
from harambee_common.db import unit_of_work
from harambee_common.service_app import ServiceContext, WorkerFactory
from harambee_common.workers import PeriodicWorker
from harambee_interventions.flags import checks

# A SECURITY DEFINER function (migration 0005): the tenants with work, across row-level security.
_TENANTS_WITH_WORK = sa.text("SELECT * FROM interventions_tenants_with_work()")


class FlagCheck(PeriodicWorker):
    """Raises the flags of every tenant's stalled plans, on the app's clock (tests move it, never sleep)."""

    name = "flag-check"

    def __init__(self, *, sessions: sessionmaker[Session], clock: Clock, interval: float) -> None:
        super().__init__(interval=interval, stop_timeout=30)
        self._sessions = sessions
        self.clock = clock

    @classmethod
    def factory(cls, *, clock: Clock, interval: float) -> WorkerFactory:
        """Builds the check on the app's sessions when the app starts."""
        def build(context: ServiceContext) -> FlagCheck:
            return cls(sessions=context.sessions, clock=clock, interval=interval)
        return build

    def run_once(self) -> int:
        """One check in each tenant with work; returns how many flags it raised."""
        with self._sessions() as session:
            tenants = list(session.scalars(_TENANTS_WITH_WORK))
        now, raised = self.clock.now(), 0
        for tenant in tenants:
            if self.stopping:
                break
            with unit_of_work(self._sessions, tenant) as uow:
                raised += checks.check_tenant(uow=uow, now=now)
        return raised
