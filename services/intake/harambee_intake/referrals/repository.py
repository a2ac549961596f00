"""Every query about referrals and the idempotency keys of their submission."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, decode_cursor, paginate
from harambee_common.problems import ValidationFailed
from harambee_intake.models import (
    IdempotencyKey,
    Referral,
    Subject,
)


def insert_detached(session: Session, row: Subject | Referral) -> None:
    """Inserts a new row; the object stays detached (what the request needs of it, it already has).

    Submitting a referral is the hot path: one Core INSERT per row, its compiled form cached, costs a
    fraction of an ORM flush. Unset attributes are left out, so column and server defaults apply.
    """
    mapper = sa.inspect(type(row))
    values = {attr.columns[0].name: value for attr in mapper.column_attrs
              if (value := getattr(row, attr.key)) is not None}
    session.execute(mapper.local_table.insert(), values)


def add_referral(*, session: Session, referral: Referral) -> None:
    """Stores a new referral (the object stays detached)."""
    insert_detached(session, referral)


def get_referral(*, session: Session, referral_id: uuid.UUID, organisation: str | None) -> Referral | None:
    """Gets a referral by id, only among one organisation's referrals when organisation is given."""
    query = sa.select(Referral).where(Referral.id == referral_id)
    if organisation is not None:
        query = query.where(Referral.organisation == organisation)
    return session.scalar(query)


@dataclass(frozen=True)
class ReferralFilter:
    """What a referral list is narrowed to and ordered by."""

    organisation: str | None = None
    statuses: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    source_types: tuple[str, ...] = ()
    received_from: datetime | None = None
    received_to: datetime | None = None
    screener: str | None = None
    partner_statuses: tuple[str, ...] = ()  # received, under_consideration, closed
    sort: str = "-received_at"  # received_at or updated_at, "-" for newest first


# Referral.partner_status, as conditions a list can filter on.
PARTNER_STATUS = {
    "received": Referral.status == "received",
    "under_consideration": sa.or_(Referral.status == "screening", Referral.outcome == "accept"),
    "closed": sa.and_(Referral.status == "screened", Referral.outcome != "accept"),
}


@dataclass(frozen=True)
class SortedKeyset(Keyset):
    """A keyset whose cursors name their sort order, so that a cursor is never continued in another."""

    sort: str = "-received_at"

    @classmethod
    def of(cls, sort: str) -> SortedKeyset:
        """The keyset of a sort: a column, "-" first for newest first."""
        return cls(columns=(SORT_COLUMNS[sort.lstrip("-")], Referral.id), types=(datetime, uuid.UUID),
                   descending=sort.startswith("-"), sort=sort)

    def decode(self, cursor: str | None) -> tuple[Any, ...] | None:
        """The position a cursor continues after; a cursor of another sort order is a 422 problem."""
        if cursor is None:
            return None
        *position, sort = decode_cursor(cursor, *self.types, str)
        if sort != self.sort:
            raise ValidationFailed("The cursor belongs to another sort order; start again without it.")
        return tuple(position)

    def position(self, row: Any) -> tuple[Any, ...]:
        """Where a row stands in this order, and the order's name."""
        return (*super().position(row), self.sort)


SORT_COLUMNS = {"received_at": Referral.received_at, "updated_at": Referral.updated_at}
KEYSETS = {sort: SortedKeyset.of(sort) for sort in ("received_at", "-received_at", "updated_at", "-updated_at")}


def list_referrals(*, session: Session, where: ReferralFilter, cursor: str | None, limit: int) -> Slice[Referral]:
    """A page of referrals, in the filter's order, continuing after the cursor."""
    query = sa.select(Referral)
    if where.organisation is not None:
        query = query.where(Referral.organisation == where.organisation)
    if where.statuses:
        query = query.where(Referral.status.in_(where.statuses))
    if where.outcomes:
        query = query.where(Referral.outcome.in_(where.outcomes))
    if where.source_types:
        query = query.where(Referral.source_type.in_(where.source_types))
    if where.received_from is not None:
        query = query.where(Referral.received_at >= where.received_from)
    if where.received_to is not None:
        query = query.where(Referral.received_at < where.received_to)
    if where.screener is not None:
        query = query.where(Referral.screener == where.screener)
    if where.partner_statuses:
        query = query.where(sa.or_(*(PARTNER_STATUS[s] for s in where.partner_statuses)))
    return paginate(session, query, keyset=KEYSETS[where.sort], cursor=cursor, limit=limit)


def lock_referral(*, session: Session, referral_id: uuid.UUID) -> Referral | None:
    """Gets a referral for update: concurrent changes to it wait for this transaction."""
    return session.scalar(sa.select(Referral).where(Referral.id == referral_id).with_for_update())


def referrals_of(*, session: Session, subject_ids: list[uuid.UUID], limit: int = 200) -> list[Referral]:
    """The referrals linked to any of these subjects, newest first."""
    return list(session.scalars(
        sa.select(Referral).where(Referral.subject_id.in_(subject_ids))
        .order_by(Referral.received_at.desc()).limit(limit)
    ))


def referral_summaries(
    *, session: Session, subject_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, str, str | None]]:
    """The (subject, status, outcome) of every referral of these subjects."""
    rows = session.execute(sa.select(Referral.subject_id, Referral.status, Referral.outcome)
                           .where(Referral.subject_id.in_(subject_ids)))
    return [(subject_id, status, outcome) for subject_id, status, outcome in rows]


def claim_idempotency_key(
    *, session: Session, tenant: str, client_id: str, key: str, request_hash: bytes
) -> bool:
    """Inserts the key; False when it exists (after waiting for a concurrent claim to finish)."""
    inserted = session.execute(
        pg_insert(IdempotencyKey)
        .values(tenant_id=tenant, client_id=client_id, key=key, request_hash=request_hash)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    ).first()
    return inserted is not None


def get_idempotency_key(*, session: Session, client_id: str, key: str) -> IdempotencyKey | None:
    """A client's key, as stored."""
    return session.scalar(
        sa.select(IdempotencyKey).where(IdempotencyKey.client_id == client_id, IdempotencyKey.key == key)
    )


def store_idempotent_response(
    *, session: Session, client_id: str, key: str, status: int, response: dict, location: str | None
) -> None:
    """Records the response of the request that claimed the key."""
    session.execute(
        sa.update(IdempotencyKey)
        .where(IdempotencyKey.client_id == client_id, IdempotencyKey.key == key)
        .values(status=status, response=response, location=location)
    )


def purge_idempotency_keys(*, session: Session, before: datetime) -> int:
    """Forgets idempotency keys older than a time."""
    return session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < before)).rowcount
