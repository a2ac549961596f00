"""Keyset pagination against the real PostgreSQL: every row once, in order, and cursors checked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, decode_cursor, encode_cursor, paginate
from harambee_common.problems import ValidationFailed

metadata = sa.MetaData()
things = sa.Table("paged_things", metadata, sa.Column("id", sa.Uuid, primary_key=True),
                  sa.Column("at", sa.DateTime(timezone=True), nullable=False))
KEYSET = Keyset(columns=(things.c.at, things.c.id), types=(datetime, uuid.UUID))
NEWEST_FIRST = Keyset(columns=(things.c.at, things.c.id), types=(datetime, uuid.UUID), descending=True)


@pytest.fixture(scope="module")
def session(postgres):
    database = postgres.provision("assessment")
    engine = sa.create_engine(database.owner)
    metadata.create_all(engine)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    # Ties on `at` on purpose: the id must break them, or rows would be skipped or repeated across pages.
    rows = [{"id": uuid.uuid4(), "at": start + timedelta(minutes=n // 3)} for n in range(23)]
    with engine.begin() as conn:
        conn.execute(things.insert(), rows)
    with Session(engine) as session:
        yield session
    engine.dispose()


def walk(session: Session, keyset: Keyset, limit: int) -> list[tuple]:
    """Every page of the list, following cursors (bounded, in case a cursor loops)."""
    seen, cursor = [], None
    for _ in range(100):
        page = paginate(session, sa.select(things.c.at, things.c.id), keyset=keyset, cursor=cursor, limit=limit,
                        scalars=False)
        assert len(page.rows) <= limit
        seen += [tuple(r) for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("limit", [1, 5, 23, 50])
def test_pages_hold_every_row_once_in_order_and_the_last_has_no_cursor(session, limit):
    everything = [tuple(r) for r in session.execute(sa.select(things.c.at, things.c.id))]
    assert walk(session, KEYSET, limit) == sorted(everything)
    assert walk(session, NEWEST_FIRST, limit) == sorted(everything, reverse=True)


def test_a_cursor_is_checked_before_it_reaches_the_database(session):
    forged = encode_cursor(datetime.now(UTC), "not-a-uuid")
    with pytest.raises(ValidationFailed):
        paginate(session, sa.select(things), keyset=KEYSET, cursor=forged, limit=5)
    issued = paginate(session, sa.select(things.c.at, things.c.id), keyset=KEYSET, cursor=None, limit=5,
                      scalars=False).next_cursor
    assert issued is not None and decode_cursor(issued, datetime, uuid.UUID)
