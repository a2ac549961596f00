"""A transaction's appends to tenants' logs: each head locked once, the new rows written together.

The consumer applies a whole poll in one transaction. A tenant's head is locked the first time the
transaction appends to it and then kept in memory: nobody else can move it while the lock is held, so
reading it again would only cost round trips. The entries, the subtrees they closed and the head's new
state are held back and written in one statement per tenant when the transaction commits (or earlier,
when something in it must read them: a checkpoint's consistency proof). A statement per entry cost
more CPU, in this process and in PostgreSQL, than everything else the append does.

Until then the transaction's own queries do not see its entries; code that reads the log after
appending in the same transaction calls `write_pending` first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_audit import repository
from harambee_audit.entries import EntryRecord
from harambee_audit.merkle import Frontier, leaf_hash
from harambee_common.db import UnitOfWork, set_tenant
from harambee_common.events import Event


@dataclass
class LockedHead:
    """A tenant's log head, locked for the rest of the transaction, as this transaction's appends move it."""

    tenant: str
    frontier: Frontier
    last_leaf: bytes | None
    checkpoint_size: int
    # What the database does not hold yet: one tuple per entry (repository.ENTRY_COLUMNS), and the
    # complete subtrees the entries closed.
    entries: list[tuple] = field(default_factory=list)
    nodes: list[tuple[int, int, bytes]] = field(default_factory=list)

    @property
    def size(self) -> int:
        """How many entries the log holds (with those not yet written)."""
        return self.frontier.size

    def append(self, event: Event, *, recorded_at: datetime) -> EntryRecord:
        """Makes the event the log's next entry: hashes it into the tree and queues its row."""
        record = EntryRecord.from_event(event, seq=self.size, prev=self.last_leaf, recorded_at=recorded_at)
        canonical = record.canonical()
        leaf = leaf_hash(canonical)
        self.nodes += self.frontier.append(leaf)
        self.last_leaf = leaf
        self.entries.append((
            record.seq, record.event_id, record.type, record.source, record.subject, record.actor,
            record.client_id, record.agreement, record.purpose, record.time, record.recorded_at,
            json.dumps(record.data, ensure_ascii=False, separators=(",", ":")), canonical, leaf,
        ))
        return record


_HEADS = "harambee_audit.heads"
_WRITES_AT_COMMIT = "harambee_audit.writes_at_commit"


def locked_head(*, uow: UnitOfWork) -> LockedHead:
    """The tenant's head, locked once per transaction and then kept in memory for its further appends."""
    session, transaction = uow.session, uow.session.get_transaction()
    cached = session.info.get(_HEADS)
    if cached is None or cached[0] is not transaction:
        cached = session.info[_HEADS] = (transaction, {})
    heads: dict[str, LockedHead] = cached[1]
    head = heads.get(uow.tenant)
    if head is None:
        if not session.info.get(_WRITES_AT_COMMIT):
            # A hook on the session, not the unit of work's deferred events (those carry outbox events only):
            # the rows are held for the whole transaction, which in a consumer's batch spans one UnitOfWork per
            # run of a tenant's events (a tenant recurs after another's), and only the session sees where it
            # ends. They are written inside that commit, with the head's lock and the batch's processed_events
            # rows: written after it, a crash would lose the entries of events already recorded as applied.
            sa.event.listen(session, "before_commit", _write_all)
            session.info[_WRITES_AT_COMMIT] = True
        row = repository.lock_head(db_session=session, tenant=uow.tenant)
        head = heads[uow.tenant] = LockedHead(
            tenant=uow.tenant,
            frontier=Frontier.from_bytes(row.size, row.frontier),
            last_leaf=row.last_leaf,
            checkpoint_size=row.checkpoint_size,
        )
    return head


def write_pending(*, db_session: Session, head: LockedHead) -> None:
    """Writes the head's queued entries and subtrees and moves it; the session must be in its tenant."""
    if not head.entries:
        return
    repository.append_entries(
        db_session=db_session,
        tenant=head.tenant,
        entries=head.entries,
        nodes=head.nodes,
        size=head.size,
        frontier=head.frontier.to_bytes(),
        last_leaf=head.last_leaf,
    )
    head.entries, head.nodes = [], []


def _write_all(session: Session) -> None:
    """Before the commit: every head's queued rows, each under its own tenant (row-level security)."""
    cached = session.info.get(_HEADS)
    if cached is None or cached[0] is not session.get_transaction():
        return
    heads = [head for head in cached[1].values() if head.entries]
    if not heads:
        return
    # Anything else the transaction left unflushed goes first, under the tenant it was made in.
    session.flush()
    for head in heads:
        set_tenant(session, head.tenant)
        write_pending(db_session=session, head=head)

