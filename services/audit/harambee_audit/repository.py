"""Every query the audit service makes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_audit.merkle import NodeId
from harambee_audit.models import (
    Checkpoint,
    EmergencyAccess,
    EmergencyReview,
    Entry,
    LogHead,
    MerkleNode,
    ReadAlert,
    ReadCount,
    ReadCountMark,
)
from harambee_common.pagination import Keyset, Slice, paginate

STREAM_BATCH = 2000
# The orders the API's lists page in (their cursors name a position in these).
LOG_ORDER = Keyset(columns=(Entry.seq,), types=(int,))
CHECKPOINT_ORDER = Keyset(columns=(Checkpoint.tree_size,), types=(int,))
EMERGENCY_QUEUE_ORDER = Keyset(columns=(EmergencyAccess.accessed_at, EmergencyAccess.seq), types=(datetime, int))
ALERT_ORDER = Keyset(columns=(ReadAlert.raised_at, ReadAlert.id), types=(datetime, uuid.UUID))
# Event types that record a read of a person's data (or a refused one), whichever service made it:
# `access.recorded` (EventSource.record_access), and `<entity>.accessed`-style types.
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


# Built once: the consumer locks a head in every transaction it commits.
_LOCK_HEAD = (
    sa.select(LogHead.size, LogHead.frontier, LogHead.last_leaf, LogHead.checkpoint_size)
    .where(LogHead.tenant_id == sa.bindparam("tenant"))
    .with_for_update()
)


def lock_head(*, db_session: Session, tenant: str) -> sa.Row:
    """The tenant's log head (size, frontier, last_leaf, checkpoint_size), created if absent and locked."""
    row = db_session.execute(_LOCK_HEAD, {"tenant": tenant}).one_or_none()
    if row is None:  # the tenant's first entry (or a concurrent first: the insert then waits, does nothing)
        db_session.execute(insert(LogHead).values(tenant_id=tenant).on_conflict_do_nothing())
        row = db_session.execute(_LOCK_HEAD, {"tenant": tenant}).one()
    return row


def get_head(*, db_session: Session, tenant: str) -> LogHead | None:
    """The tenant's log head, unlocked, or None before its first entry."""
    return db_session.scalars(sa.select(LogHead).where(LogHead.tenant_id == tenant)).one_or_none()


# The order of an entry's fields in the tuples append_entries takes.
ENTRY_COLUMNS = (
    "seq", "event_id", "type", "source", "subject", "actor", "client_id", "agreement", "purpose", "time",
    "recorded_at", "data", "canonical", "leaf_hash",
)
_ENTRY_TYPES = (
    "bigint", "text", "text", "text", "text", "text", "text", "text", "text", "timestamptz",
    "timestamptz", "jsonb", "bytea", "bytea",
)
_COLUMNS = ", ".join(ENTRY_COLUMNS)
# Arrays go in binary (%(...)b): psycopg writes a text array in Python, escaping every quote of every
# element (the canonical JSON is full of them), which cost more than the rest of an append.
_ARRAYS = ", ".join(f"CAST(%({c})b AS {t}[])" for c, t in zip(ENTRY_COLUMNS, _ENTRY_TYPES, strict=True))

# A tenant's entries, the Merkle subtrees they closed and the head's new state, in one round trip
# whatever their number: one array per column keeps the statement text (and its plan) the same.
_APPEND = f"""
    WITH entry AS (
        INSERT INTO entries (tenant_id, {_COLUMNS})
        SELECT %(tenant_id)s, {_COLUMNS} FROM unnest({_ARRAYS}) AS e({_COLUMNS})
    ), nodes AS (
        INSERT INTO merkle_nodes (tenant_id, level, idx, hash)
        SELECT %(tenant_id)s, n.level, n.idx, n.hash
        FROM unnest(CAST(%(levels)b AS smallint[]), CAST(%(idxs)b AS bigint[]), CAST(%(hashes)b AS bytea[]))
             AS n(level, idx, hash)
    )
    UPDATE log_heads SET size = %(size)s, frontier = %(frontier)s, last_leaf = %(last_leaf)s
    WHERE tenant_id = %(tenant_id)s
"""


def append_entries(
    *,
    db_session: Session,
    tenant: str,
    entries: list[tuple],
    nodes: list[tuple[int, int, bytes]],
    size: int,
    frontier: bytes,
    last_leaf: bytes | None,
) -> None:
    """Inserts entries (tuples in ENTRY_COLUMNS order, data as JSON text) and the subtrees they closed,
    and moves the locked head past them."""
    columns = zip(*entries, strict=True)
    result = db_session.connection().exec_driver_sql(
        _APPEND,
        {
            "tenant_id": tenant,
            **{name: list(values) for name, values in zip(ENTRY_COLUMNS, columns, strict=True)},
            "levels": [level for level, _, _ in nodes],
            "idxs": [index for _, index, _ in nodes],
            "hashes": [h for _, _, h in nodes],
            "size": size,
            "frontier": frontier,
            "last_leaf": last_leaf,
        },
    )
    if result.rowcount != 1:
        raise RuntimeError("the log head to append to is missing")


def set_checkpointed(*, db_session: Session, tenant: str, size: int, at: datetime) -> None:
    """Records on the locked head that a checkpoint of this size was signed."""
    db_session.execute(
        sa.update(LogHead).where(LogHead.tenant_id == tenant).values(checkpoint_size=size, checkpoint_at=at)
    )


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


def checkpoint_page(*, db_session: Session, tenant: str, cursor: str | None, limit: int) -> Slice[Checkpoint]:
    """A page of the tenant's checkpoints in order of size."""
    statement = sa.select(Checkpoint).where(Checkpoint.tenant_id == tenant)
    return paginate(db_session, statement, keyset=CHECKPOINT_ORDER, cursor=cursor, limit=limit)


def search_entries(
    *, db_session: Session, tenant: str, query: EntryQuery, cursor: str | None, limit: int
) -> Slice[Entry]:
    """A page of the matching entries, in log order."""
    statement = sa.select(Entry).where(*_conditions(tenant, query))
    return paginate(db_session, statement, keyset=LOG_ORDER, cursor=cursor, limit=limit)


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
    *, db_session: Session, tenant: str, query: EntryQuery, end: int, start: int = 0
) -> Iterator[sa.Row]:
    """(seq, canonical, leaf_hash) of matching entries in [start, end), in batches."""
    result = db_session.execute(
        sa.select(Entry.seq, Entry.canonical, Entry.leaf_hash)
        .where(*_conditions(tenant, query), Entry.seq >= start, Entry.seq < end)
        .order_by(Entry.seq)
        .execution_options(yield_per=STREAM_BATCH)
    )
    yield from result


def checkpoints_due(*, db_session: Session, max_age_seconds: float) -> list[str]:
    """The tenants with unsigned entries whose last checkpoint is older than max_age_seconds."""
    return list(
        db_session.scalars(sa.text("SELECT audit_checkpoints_due(:age)"), {"age": max_age_seconds})
    )


def add_emergency_access(*, db_session: Session, values: dict) -> None:
    """Queues an emergency access for review."""
    db_session.execute(sa.insert(EmergencyAccess).values(**values))


def _emergency_status(status: str) -> list[sa.ColumnElement[bool]]:
    if status == "pending":
        return [EmergencyReview.seq.is_(None)]
    if status == "all":
        return []
    return [EmergencyReview.decision == status]


_REVIEW_OF_ACCESS = sa.and_(
    EmergencyReview.tenant_id == EmergencyAccess.tenant_id, EmergencyReview.seq == EmergencyAccess.seq
)


def _emergency_with_review(tenant: str) -> sa.Select:
    return (
        sa.select(EmergencyAccess, EmergencyReview)
        .outerjoin(EmergencyReview, _REVIEW_OF_ACCESS)
        .where(EmergencyAccess.tenant_id == tenant)
    )


def list_emergency_accesses(
    *, db_session: Session, tenant: str, status: str, cursor: str | None, limit: int
) -> Slice[tuple[EmergencyAccess, EmergencyReview | None]]:
    """A page of emergency accesses with their reviews, oldest access first."""
    statement = (
        sa.select(EmergencyAccess)
        .outerjoin(EmergencyReview, _REVIEW_OF_ACCESS)
        .where(EmergencyAccess.tenant_id == tenant, *_emergency_status(status))
    )
    page = paginate(db_session, statement, keyset=EMERGENCY_QUEUE_ORDER, cursor=cursor, limit=limit)
    reviews = _reviews(db_session=db_session, tenant=tenant, seqs=[access.seq for access in page.rows])
    return Slice(rows=[(access, reviews.get(access.seq)) for access in page.rows], next_cursor=page.next_cursor)


def _reviews(*, db_session: Session, tenant: str, seqs: list[int]) -> dict[int, EmergencyReview]:
    """The reviews of these emergency accesses, by seq (an access not yet reviewed has none)."""
    if not seqs:
        return {}
    statement = sa.select(EmergencyReview).where(EmergencyReview.tenant_id == tenant, EmergencyReview.seq.in_(seqs))
    return {review.seq: review for review in db_session.scalars(statement)}


def count_emergency_accesses(
    *, db_session: Session, tenant: str, status: str, overdue_before: datetime
) -> tuple[int, int]:
    """How many emergency accesses have this status, and how many pending ones were made before a time."""
    status_matches = sa.and_(sa.true(), *_emergency_status(status))
    overdue = sa.and_(EmergencyReview.seq.is_(None), EmergencyAccess.accessed_at <= overdue_before)
    statement = (
        sa.select(sa.func.count().filter(status_matches), sa.func.count().filter(overdue))
        .select_from(EmergencyAccess)
        .outerjoin(EmergencyReview, _REVIEW_OF_ACCESS)
        .where(EmergencyAccess.tenant_id == tenant)
    )
    total, pending_overdue = db_session.execute(statement).one()
    return total, pending_overdue


def get_emergency_access(
    *, db_session: Session, tenant: str, seq: int
) -> tuple[EmergencyAccess, EmergencyReview | None] | None:
    """One emergency access and its review (None when the entry is not an emergency access)."""
    row = db_session.execute(_emergency_with_review(tenant).where(EmergencyAccess.seq == seq)).one_or_none()
    return None if row is None else (row[0], row[1])


def add_emergency_review(*, db_session: Session, values: dict) -> EmergencyReview | None:
    """Records a decision unless the access already has one; returns it, or None when it was decided before."""
    return db_session.scalars(
        insert(EmergencyReview)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "seq"])
        .returning(EmergencyReview)
    ).one_or_none()


def read_counts_due(*, db_session: Session) -> list[str]:
    """The tenants whose logs have entries not yet counted for read-volume alerts."""
    return list(db_session.scalars(sa.text("SELECT audit_read_counts_due()")))


def lock_read_mark(*, db_session: Session, tenant: str) -> int | None:
    """How far the tenant's reads are counted, locked until the transaction ends; None if another holds it."""
    db_session.execute(insert(ReadCountMark).values(tenant_id=tenant).on_conflict_do_nothing())
    return db_session.scalar(
        sa.select(ReadCountMark.counted)
        .where(ReadCountMark.tenant_id == tenant)
        .with_for_update(skip_locked=True)
    )


def set_read_mark(*, db_session: Session, tenant: str, counted: int) -> None:
    """Records that entries [0, counted) have been counted."""
    db_session.execute(
        sa.update(ReadCountMark).where(ReadCountMark.tenant_id == tenant).values(counted=counted)
    )


_COUNT_READS = sa.text(
    """
    INSERT INTO read_counts AS c (tenant_id, actor, day, count)
    SELECT tenant_id, actor, (time AT TIME ZONE :zone)::date AS day, count(*)
    FROM entries
    WHERE tenant_id = :tenant AND seq >= :start AND seq < :end AND type = :type AND actor IS NOT NULL
    GROUP BY tenant_id, actor, day
    ON CONFLICT (tenant_id, actor, day) DO UPDATE SET count = c.count + excluded.count
    RETURNING actor, day, count
    """
)


def count_reads(
    *, db_session: Session, tenant: str, start: int, end: int, read_type: str, zone: str
) -> list[tuple[str, date, int]]:
    """Adds the reads in entries [start, end) to the daily counts; returns the (actor, day, total) it touched."""
    rows = db_session.execute(
        _COUNT_READS, {"tenant": tenant, "start": start, "end": end, "type": read_type, "zone": zone}
    )
    return [(actor, day, count) for actor, day, count in rows]


def read_history(
    *, db_session: Session, tenant: str, actors: Iterable[str], first: date, last: date
) -> dict[tuple[str, date], int]:
    """The daily read counts of these actors on days [first, last]."""
    rows = db_session.execute(
        sa.select(ReadCount.actor, ReadCount.day, ReadCount.count).where(
            ReadCount.tenant_id == tenant,
            ReadCount.actor.in_(list(actors)),
            ReadCount.day >= first,
            ReadCount.day <= last,
        )
    )
    return {(actor, day): count for actor, day, count in rows}


def raise_alert(*, db_session: Session, values: dict) -> None:
    """Opens an alert for an actor's day, or brings an existing one's count and threshold up to date."""
    statement = insert(ReadAlert).values(**values)
    db_session.execute(
        statement.on_conflict_do_update(
            constraint="read_alerts_once_a_day",
            set_={
                "count": statement.excluded.count,
                "threshold": statement.excluded.threshold,
                "baseline": statement.excluded.baseline,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


def list_alerts(
    *, db_session: Session, tenant: str, status: str, cursor: str | None, limit: int
) -> Slice[ReadAlert]:
    """A page of the alerts with this status (or any, for "all"), oldest first."""
    statement = sa.select(ReadAlert).where(ReadAlert.tenant_id == tenant)
    if status != "all":
        statement = statement.where(ReadAlert.status == status)
    return paginate(db_session, statement, keyset=ALERT_ORDER, cursor=cursor, limit=limit)


def count_alerts(*, db_session: Session, tenant: str, status: str) -> int:
    """How many alerts have this status (or any, for "all")."""
    statement = sa.select(sa.func.count()).select_from(ReadAlert).where(ReadAlert.tenant_id == tenant)
    if status != "all":
        statement = statement.where(ReadAlert.status == status)
    return db_session.scalar(statement)


def get_alert(*, db_session: Session, tenant: str, alert_id: uuid.UUID) -> ReadAlert | None:
    """One alert."""
    return db_session.scalars(
        sa.select(ReadAlert).where(ReadAlert.tenant_id == tenant, ReadAlert.id == alert_id)
    ).one_or_none()


def close_alert(*, db_session: Session, tenant: str, alert_id: uuid.UUID, values: dict) -> ReadAlert | None:
    """Closes an open alert; returns it, or None when it was not open."""
    return db_session.scalars(
        sa.update(ReadAlert)
        .where(ReadAlert.tenant_id == tenant, ReadAlert.id == alert_id, ReadAlert.status == "open")
        .values(status="closed", **values)
        .returning(ReadAlert),
        # The alert was read earlier in this transaction: show what the UPDATE returned, not that copy.
        execution_options={"synchronize_session": False, "populate_existing": True},
    ).one_or_none()
