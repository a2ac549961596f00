"""Sealing the merge and re-identification reasons versions before 0017 kept in clear.

Reasons are free text about a person; from 0017 they are sealed under the person's data key when
recorded. Migrations run without the keys, so the ones already there are sealed here, by the service,
a bounded batch per tenant per pass, shortly after start and then every interval until none is left.
A reason about a person erased or moved to another county is not sealed here: erasure and the move
have replaced it with their marker already.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from harambee_common.db import unit_of_work
from harambee_common.service_app import ServiceContext, WorkerFactory
from harambee_common.workers import PeriodicWorker
from harambee_intake.subjects import repository
from harambee_intake.subjects.service import merge_context, reidentification_context, subject_key
from harambee_intake.vault import Vault

INTERVAL_SECONDS = 600.0
FIRST_PASS_AFTER_SECONDS = 5.0


def seal_clear_reasons(*, sessions: sessionmaker[Session], vault: Vault, tenant: str, batch: int = 500) -> int:
    """Seals up to `batch` clear reasons of each kind in one tenant; returns how many it sealed."""
    sealed = 0
    with unit_of_work(sessions, tenant) as uow:
        for merge in repository.merges_with_clear_reasons(session=uow.session, limit=batch):
            subject = repository.get_subject(session=uow.session, subject_id=merge.source_id)
            if subject is None or subject.wrapped_key is None:
                continue
            key = subject_key(vault=vault, tenant=tenant, subject=subject)
            reasons = {"merge_reason": merge.reason, "unmerge_reason": merge.unmerge_reason}
            merge.sealed = {**(merge.sealed or {}), **key.seal(reasons, context=merge_context(merge.id))}
            merge.reason = merge.unmerge_reason = None
            sealed += 1
        for record in repository.reidentifications_with_clear_reasons(session=uow.session, limit=batch):
            subject = repository.get_subject(session=uow.session, subject_id=record.subject_id)
            if subject is None or subject.wrapped_key is None:
                continue
            key = subject_key(vault=vault, tenant=tenant, subject=subject)
            record.sealed = key.seal({"reason": record.reason}, context=reidentification_context(record.id))
            record.reason = None
            sealed += 1
    return sealed


class ClearReasonSealer(PeriodicWorker):
    """Seals clear reasons in every tenant that has any, until none is left."""

    name = "reason-sealing"

    def __init__(self, *, sessions: sessionmaker[Session], vault: Vault, interval: float = INTERVAL_SECONDS,
                 max_tenants: int = 1000) -> None:
        super().__init__(interval=interval, first_run_after=FIRST_PASS_AFTER_SECONDS)
        self._sessions = sessions
        self._vault = vault
        self._max_tenants = max_tenants

    @classmethod
    def factory(cls, *, vault: Vault) -> WorkerFactory:
        """Builds the sealer on the app's sessions when the app starts."""
        def build(context: ServiceContext) -> ClearReasonSealer:
            return cls(sessions=context.sessions, vault=vault)
        return build

    def run_once(self) -> int:
        """One pass over the tenants with clear reasons; returns how many reasons it sealed."""
        with self._sessions() as session:
            tenants = repository.tenants_with_clear_reasons(session=session, limit=self._max_tenants)
        sealed = 0
        for tenant in tenants:
            if self.stopping:
                break
            sealed += seal_clear_reasons(sessions=self._sessions, vault=self._vault, tenant=tenant)
        return sealed
