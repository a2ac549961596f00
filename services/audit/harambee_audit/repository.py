"""Every query the audit service makes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_audit.merkle import NodeId
from harambee_audit.models import Checkpoint, Entry, LogHead, MerkleNode

STREAM_BATCH = 2000
# Event types that record a read of a person's data (or a refused one), whichever service made it:
# `access.recorded` from harambee_common.access, and `<entity>.accessed`-style types.
READ_TYPE_PREFIXES = ("access.",)
READ_TYPE_SUFFIXES = (".accessed", ".reidentified", ".disclosed")


@dataclass(frozen=True)
class EntryQuery:
    """Search filters on a tenant's entries; None means any."""

    subject: str | None = None
    type: str | None = None
    actor: str | None = None
    client_id: str | None = None
    agreement: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    reads_only: bool = False  # only records of reads of a person's data (or refused reads)


def _conditions(tenant: str, query: EntryQuery) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [Entry.tenant_id == tenant]
    if query.subject is not None:
        conditions.append(
            sa.or_(Entry.subject == query.subject, Entry.data["subject_ref"].astext == query.subject)
        )
    for column, value in (
        (Entry.type, query.type),
        (Entry.actor, query.actor),
        (Entry.client_id, query.client_id),
        (Entry.agreement, query.agreement),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.since is not None:
        conditions.append(Entry.time >= query.since)
    if query.until is not None:
        conditions.append(Entry.time < query.until)
    if query.reads_only:
        conditions.append(
            sa.or_(
                *(Entry.type.startswith(p, autoescape=True) for p in READ_TYPE_PREFIXES),
                *(Entry.type.endswith(s, autoescape=True) for s in READ_TYPE_SUFFIXES),
            )
        )
    return conditions


def lock_head(*, db_session: Session, tenant: str) -> LogHead:
    """The tenant's log head, created if absent and locked until the transaction ends."""
    db_session.execute(insert(LogHead).values(tenant_id=tenant).on_conflict_do_nothing())
    return db_session.scalars(
        sa.select(LogHead).where(LogHead.tenant_id == tenant).with_for_update()
    ).one()


def get_head(*, db_session: Session, tenant: str) -> LogHead | None:
    """The tenant's log head, unlocked, or None before its first entry."""
    return db_session.scalars(sa.select(LogHead).where(LogHead.tenant_id == tenant)).one_or_none()


def add_entry(*, db_session: Session, values: dict) -> None:
    """Inserts one entry."""
    db_session.execute(sa.insert(Entry).values(**values))


def add_nodes(*, db_session: Session, tenant: str, nodes: Iterable[tuple[int, int, bytes]]) -> None:
    """Inserts the Merkle subtrees an append closed."""
    rows = [{"tenant_id": tenant, "level": lv, "idx": idx, "hash": h} for lv, idx, h in nodes]
    if rows:
        db_session.execute(sa.insert(MerkleNode), rows)


def get_nodes(*, db_session: Session, tenant: str, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """The hashes of these complete subtrees (level 0 are leaves)."""
    ids = set(ids)
    found: dict[NodeId, bytes] = {}
    leaves = [index for level, index in ids if level == 0]
    if leaves:
        rows = db_session.execute(
            sa.select(Entry.seq, Entry.leaf_hash).where(
                Entry.tenant_id == tenant, Entry.seq.in_(leaves)
            )
        )
        found.update({(0, seq): h for seq, h in rows})
    inner = [(level, index) for level, index in ids if level > 0]
    if inner:
        rows = db_session.execute(
            sa.select(MerkleNode.level, MerkleNode.idx, MerkleNode.hash).where(
                MerkleNode.tenant_id == tenant,
                sa.tuple_(MerkleNode.level, MerkleNode.idx).in_(inner),
            )
        )
        found.update({(level, idx): h for level, idx, h in rows})
    return found


def add_checkpoint(*, db_session: Session, checkpoint: Checkpoint) -> None:
    """Inserts a signed checkpoint."""
    db_session.add(checkpoint)
    db_session.flush()


def last_checkpoint(*, db_session: Session, tenant: str, at_most: int | None = None) -> Checkpoint | None:
    """The tenant's largest checkpoint (no larger than at_most, when given)."""
    statement = sa.select(Checkpoint).where(Checkpoint.tenant_id == tenant)
    if at_most is not None:
        statement = statement.where(Checkpoint.tree_size <= at_most)
    return db_session.scalars(statement.order_by(Checkpoint.tree_size.desc()).limit(1)).one_or_none()


def first_checkpoint_from(*, db_session: Session, tenant: str, size: int) -> Checkpoint | None:
    """The tenant's smallest checkpoint of at least size entries."""
    return db_session.scalars(
        sa.select(Checkpoint)
        .where(Checkpoint.tenant_id == tenant, Checkpoint.tree_size >= size)
        .order_by(Checkpoint.tree_size)
        .limit(1)
    ).one_or_none()


def get_checkpoint(*, db_session: Session, tenant: str, tree_size: int) -> Checkpoint | None:
    """The checkpoint of exactly this tree size."""
    return db_session.get(Checkpoint, (tenant, tree_size))


def list_checkpoints(
    *, db_session: Session, tenant: str, after_size: int, limit: int, up_to: int | None = None
) -> list[Checkpoint]:
    """Checkpoints in order of size, after a size (and up to one, when given)."""
    statement = sa.select(Checkpoint).where(
        Checkpoint.tenant_id == tenant, Checkpoint.tree_size > after_size
    )
    if up_to is not None:
        statement = statement.where(Checkpoint.tree_size <= up_to)
    return list(db_session.scalars(statement.order_by(Checkpoint.tree_size).limit(limit)))


def search_entries(
    *, db_session: Session, tenant: str, query: EntryQuery, after_seq: int, limit: int
) -> list[Entry]:
    """Matching entries in log order, after a sequence number."""
    return list(
        db_session.scalars(
            sa.select(Entry)
            .where(*_conditions(tenant, query), Entry.seq > after_seq)
            .order_by(Entry.seq)
            .limit(limit)
        )
    )


def count_entries(*, db_session: Session, tenant: str, query: EntryQuery) -> int:
    """How many entries match."""
    return db_session.scalar(sa.select(sa.func.count()).select_from(Entry).where(*_conditions(tenant, query)))


def get_entry(*, db_session: Session, tenant: str, seq: int) -> Entry | None:
    """The entry with this sequence number."""
    return db_session.get(Entry, (tenant, seq))


def stream_entries(*, db_session: Session, tenant: str, start: int, end: int) -> Iterator[sa.Row]:
    """(seq, canonical, leaf_hash) of entries [start, end), fetched in batches by a server-side cursor."""
    result = db_session.execute(
        sa.select(Entry.seq, Entry.canonical, Entry.leaf_hash)
        .where(Entry.tenant_id == tenant, Entry.seq >= start, Entry.seq < end)
        .order_by(Entry.seq)
        .execution_options(yield_per=STREAM_BATCH)
    )
    yield from result


def stream_matching(
    *, db_session: Session, tenant: str, query: EntryQuery, end: int
) -> Iterator[sa.Row]:
    """(seq, canonical, leaf_hash) of matching entries below end, in batches."""
    result = db_session.execute(
        sa.select(Entry.seq, Entry.canonical, Entry.leaf_hash)
        .where(*_conditions(tenant, query), Entry.seq < end)
        .order_by(Entry.seq)
        .execution_options(yield_per=STREAM_BATCH)
    )
    yield from result


def checkpoints_due(*, db_session: Session, max_age_seconds: float) -> list[str]:
    """The tenants with unsigned entries whose last checkpoint is older than max_age_seconds."""
    return list(
        db_session.scalars(sa.text("SELECT audit_checkpoints_due(:age)"), {"age": max_age_seconds})
    )
