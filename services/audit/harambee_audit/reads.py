"""Reads of the log are recorded in the log: who read which person's entries, before the answer leaves.

The log holds subject references and who accessed whom, so reading it is a read of personal data like
any other (every disclosure is documented). A route that returns entries, emergency accesses or read
alerts appends one `access.recorded` entry per subject among what it returns (a person's reference,
or what else an entry is about: `log`, `read_alert/<id>`), in the request's transaction: the unit of
work commits before the response is sent, so nothing leaves unrecorded, and a failed append fails the
read. An export records its range under `log` (or its person), before the first line is streamed.

Recording is an append, not a read, so it records nothing further. The entries it appends are not
seen by the search that caused them (appends are written at commit), and reading them back is not
recorded again: each says only that an officer read the log, which the log holds already, and
recording those reads would let an officer paging through the log chase a tail that grows with each page.

A national officer's reads are recorded the same way; auth.py adds the record of the agreement
(`audit_log.read_by_oversight`) they were made under.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from harambee_audit import service
from harambee_audit.auth import AuditReader
from harambee_audit.emergency import QueueItem
from harambee_audit.entries import ACCESS_TYPE
from harambee_audit.events import EVENTS
from harambee_audit.models import Entry, ReadAlert
from harambee_audit.signing import CheckpointSigner
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue import AccessRecorded
from harambee_common.db import UnitOfWork, UnitOfWorkDep

# What each kind of answer shows (the fields of its schema that carry references to people).
ENTRY_FIELDS = ("actor", "agreement", "client_id", "data", "purpose", "subject", "type")
EMERGENCY_FIELDS = ("actor", "client_id", "reason", "review", "subject")
ALERT_FIELDS = ("actor", "closed_by", "count", "day", "note")


def is_read_of_the_log(entry: Entry) -> bool:
    """Whether the entry is this service's own record of a read of the log."""
    return entry.type == ACCESS_TYPE and entry.source == EVENTS.source


@dataclass(frozen=True)
class LogReads:
    """Appends the records of what one request read of its tenant's log, in the request's transaction."""

    uow: UnitOfWork
    principal: TenantPrincipal
    signer: CheckpointSigner
    checkpoint_every: int

    @property
    def tenant(self) -> str:
        """The tenant whose log is read."""
        return self.principal.tenant

    def entries(self, entries: Iterable[Entry], *, resource: str) -> None:
        """Records a read of log entries: one record per subject they are about."""
        subjects = (e.subject for e in entries if not is_read_of_the_log(e))
        self.record(subjects=subjects, resource=resource, fields=ENTRY_FIELDS)

    def emergency_accesses(self, items: Iterable[QueueItem], *, resource: str) -> None:
        """Records a read of the break-the-glass queue: one record per person whose data was accessed."""
        self.record(subjects=(i.access.subject for i in items), resource=resource, fields=EMERGENCY_FIELDS)

    def alerts(self, alerts: Iterable[ReadAlert]) -> None:
        """Records a read of read-volume alerts, each under the alert (as its closing is)."""
        for alert in alerts:
            self.record(subjects=[f"read_alert/{alert.id}"], resource=f"read-alerts/{alert.id}",
                        fields=ALERT_FIELDS)

    def record(self, *, subjects: Iterable[str], resource: str, fields: Iterable[str]) -> None:
        """Appends one `access.recorded` entry per distinct subject, in the order first read."""
        principal = self.principal
        purpose = "national_oversight" if principal.home_tenant is not None else "compliance_review"
        read = AccessRecorded.by(principal, resource=resource, fields=fields, purpose=purpose)
        for subject in dict.fromkeys(subjects):
            event = EVENTS.event(read, tenant=self.uow.tenant, subject=subject)
            service.append_event(uow=self.uow, event=event, signer=self.signer,
                                 checkpoint_every=self.checkpoint_every)


def _log_reads(request: Request, principal: AuditReader, uow: UnitOfWorkDep) -> LogReads:
    state = request.app.state
    return LogReads(uow=uow, principal=principal, signer=state.signer, checkpoint_every=state.audit.checkpoint_every)


# Routes that return what the log says of people: whom AuditReader admits, with what records their reads.
# (A route takes it in place of AuditReader, not beside it: reached both ways, the authenticator ran twice.)
LogReader = Annotated[LogReads, Depends(_log_reads)]
