"""A background thread that marks agreements expired when their validity ends, and publishes it."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from harambee_gateway import agreements

log = logging.getLogger(__name__)
ACTOR = "gateway-expiry"


class AgreementExpiry:
    """Every interval, expires the agreements whose validity has ended (safe on several replicas)."""

    def __init__(self, *, sessions: sessionmaker[Session], interval_seconds: float) -> None:
        self._sessions = sessions
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="agreement-expiry", daemon=True)

    def start(self) -> None:
        """Starts sweeping in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stops after the sweep in flight."""
        self._stop.set()
        self._thread.join(timeout=10)

    def sweep(self) -> int:
        """Expires what has lapsed today; returns how many agreements were expired."""
        with self._sessions() as db_session, db_session.begin():
            expired = agreements.expire_lapsed(db_session=db_session, on=agreements.today(), actor=ACTOR)
        return len(expired)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                count = self.sweep()
                if count:
                    log.info("expired %d agreement(s)", count)
            except SQLAlchemyError as exc:
                # Another replica expiring the same agreement, or the database away: try next time.
                log.warning("agreement expiry sweep failed: %s", type(exc).__name__)
