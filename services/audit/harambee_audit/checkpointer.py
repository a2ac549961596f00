"""Signs a checkpoint for every tenant whose unsigned entries have waited T seconds."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from harambee_audit import service
from harambee_audit.signing import CheckpointSigner
from harambee_common.db import unit_of_work
from harambee_common.workers import PeriodicWorker


class Checkpointer(PeriodicWorker):
    """A background worker; appends sign every N entries themselves, this covers quiet tails."""

    name = "audit-checkpointer"

    def __init__(
        self, *, sessions: sessionmaker[Session], signer: CheckpointSigner, max_age_seconds: float
    ) -> None:
        # Half the allowed age, so a tail waits at most 1.5 T; never slower than every 5 s.
        super().__init__(interval=min(max(max_age_seconds / 2, 0.2), 5.0))
        self._sessions = sessions
        self._signer = signer
        self._max_age = max_age_seconds

    def run_once(self) -> int:
        """Signs the checkpoints that are due; returns how many."""
        with self._sessions() as session, session.begin():
            tenants = service.checkpoints_due(db_session=session, max_age_seconds=self._max_age)
        signed = 0
        for tenant in tenants:
            if self.stopping:
                break
            with unit_of_work(self._sessions, tenant) as uow:
                signed += service.sign_checkpoint(uow=uow, signer=self._signer) is not None
        return signed
