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
(`audit_log.read_by_oversight`) they were made under. What a national officer is shown is cut to the fields
the agreement names (its `audit_log` category, by the names in ENTRY_NAMES): an entry's other fields are
null, and the record says which fields were disclosed. A view that is only of use whole (an export, whose
entries are verified by their hashes; the break-the-glass queue; read alerts) is given to a national officer
only when the agreement names every field of it, and refused with a 403 problem otherwise.
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
from harambee_audit.schemas import EntryOut
from harambee_audit.signing import CheckpointSigner
from harambee_common.agreements import Agreement
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue import AccessRecorded
from harambee_common.db import UnitOfWork, UnitOfWorkDep
from harambee_common.problems import Forbidden

# What each kind of answer shows (the fields of its schema that carry references to people).
ENTRY_FIELDS = ("actor", "agreement", "client_id", "data", "purpose", "subject", "type")
EMERGENCY_FIELDS = ("actor", "client_id", "reason", "review", "subject")
ALERT_FIELDS = ("actor", "closed_by", "count", "day", "note")
# The names agreements give an entry's fields (EntryOut's), as an `audit_log` data category lists them.
ENTRY_NAMES = {"seq": "seq", "event_id": "event_id", "time": "time", "recorded_at": "recorded_at", "type": "type",
               "source": "source", "subject": "subject_ref", "actor": "actor", "client_id": "client_id",
               "agreement": "agreement_id", "purpose": "purpose", "data": "data", "leaf_hash": "leaf_hash"}
# The reference a national reader pages by: always shown.
ALWAYS = frozenset({"seq"})


class PartialView(Forbidden):
    slug, title = "view-needs-every-field", "The agreement does not name every field of this view"


def _named(fields: Iterable[str]) -> list[str]:
    """Fields by the names agreements use for them."""
    return [ENTRY_NAMES.get(field, field) for field in fields]


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

    @property
    def agreement(self) -> Agreement | None:
        """The agreement a national reader reads under (None for the tenant's own officers: nothing is cut)."""
        return self.principal.agreement if self.principal.home_tenant is not None else None

    def entries(self, entries: Iterable[Entry], *, resource: str) -> list[EntryOut]:
        """Records a read of log entries (one record per subject they are about) and returns what is shown."""
        entries = list(entries)
        shown, fields = [EntryOut.of(e) for e in entries], ENTRY_FIELDS
        if (agreement := self.agreement) is not None:
            shown = [EntryOut(**agreement.projected(e.model_dump(), ENTRY_NAMES, always=ALWAYS)[0]) for e in shown]
            fields = tuple(f for f in ENTRY_FIELDS if ENTRY_NAMES[f] in agreement.fields)
        subjects = (e.subject for e in entries if not is_read_of_the_log(e))
        self.record(subjects=subjects, resource=resource, fields=fields)
        return shown

    def whole(self, fields: Iterable[str]) -> None:
        """Refuses a national reader a view given only whole when the agreement does not name each of its fields."""
        if (agreement := self.agreement) is None:
            return
        if missing := sorted(set(_named(fields)) - agreement.fields):
            raise PartialView(f"This view is given whole or not at all, and the agreement it is read under does not "
                              f"name {', '.join(missing)}.")

    def emergency_accesses(self, items: Iterable[QueueItem], *, resource: str) -> None:
        """Records a read of the break-the-glass queue: one record per person whose data was accessed."""
        self.whole(EMERGENCY_FIELDS)
        self.record(subjects=(i.access.subject for i in items), resource=resource, fields=EMERGENCY_FIELDS)

    def alerts(self, alerts: Iterable[ReadAlert]) -> None:
        """Records a read of read-volume alerts, each under the alert (as its closing is)."""
        self.whole(ALERT_FIELDS)
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
