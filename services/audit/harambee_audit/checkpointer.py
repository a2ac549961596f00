"""Signs a checkpoint for every tenant whose unsigned entries have waited T seconds."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from harambee_audit import service
from harambee_audit.signing import CheckpointSigner
from harambee_common.db import unit_of_work

log = logging.getLogger(__name__)


class Checkpointer:
    """A background thread; appends sign every N entries themselves, this covers quiet tails."""

    def __init__(
        self, *, sessions: sessionmaker[Session], signer: CheckpointSigner, max_age_seconds: float
    ) -> None:
        self._sessions = sessions
        self._signer = signer
        self._max_age = max_age_seconds
        self._poll = min(max(max_age_seconds / 2, 0.2), 5.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-checkpointer", daemon=True)

    def start(self) -> None:
        """Starts signing in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stops after the checkpoint in flight."""
        self._stop.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            try:
                self.run_once()
            except Exception as exc:  # a database outage or an inconsistent log: retry at the next tick
                log.warning("checkpointer: %s", type(exc).__name__)

    def run_once(self) -> int:
        """Signs the checkpoints that are due; returns how many."""
        with self._sessions() as session, session.begin():
            tenants = service.checkpoints_due(db_session=session, max_age_seconds=self._max_age)
        signed = 0
        for tenant in tenants:
            with unit_of_work(self._sessions, tenant) as uow:
                signed += service.sign_checkpoint(uow=uow, signer=self._signer) is not None
        return signed
