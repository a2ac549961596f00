"""The worker that marks agreements expired when their validity ends, and publishes it."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from harambee_common.workers import PeriodicWorker
from harambee_gateway import agreements
from harambee_gateway.unit_of_work import registry_unit_of_work

log = logging.getLogger(__name__)
ACTOR = "gateway-expiry"


class AgreementExpiry(PeriodicWorker):
    """Every interval, expires the agreements whose validity has ended.

    Safe on several replicas: two expiring the same agreement both write its next version, the
    primary key refuses one, and that pass is retried (and then finds nothing left to expire).
    """

    name = "agreement-expiry"

    def __init__(self, *, sessions: sessionmaker[Session], interval_seconds: float) -> None:
        super().__init__(interval=interval_seconds)
        self._sessions = sessions

    def run_once(self) -> int:
        """Expires what has lapsed today; returns how many agreements were expired."""
        with registry_unit_of_work(self._sessions) as uow:
            expired = agreements.expire_lapsed(uow=uow, on=agreements.today(), actor=ACTOR)
        if expired:
            log.info("expired %d agreement(s)", len(expired))
        return len(expired)
