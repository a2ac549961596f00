"""Keyset paging for the registry's lists: oldest first by (created_at, key), so an insert never shifts a page.

A cursor names the last row of the page before; the repository cuts pages, the API only encodes
and decodes the cursors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from harambee_common.pagination import decode_cursor, encode_cursor

Row = TypeVar("Row")
# A keyset position: (created_at, key) of the last row of the previous page.
After = tuple[datetime, str] | None


@dataclass(frozen=True)
class Keyset:
    """The order a table's list pages in: its creation time, then a unique key."""

    created_at: Any
    key: Any
    # The key's type in Python: a cursor carries the key as a string.
    key_type: type = str

    def after(self, query: sa.Select, position: After) -> sa.Select:
        """The query in this order, continuing after the position."""
        if position is not None:
            at, ident = position
            bound = sa.tuple_(sa.literal(at), sa.literal(self.key_type(ident)))
            query = query.where(sa.tuple_(self.created_at, self.key) > bound)
        return query.order_by(self.created_at, self.key)

    def position(self, row: object) -> tuple[datetime, str]:
        """Where a row of the table stands in this order."""
        return getattr(row, self.created_at.key), str(getattr(row, self.key.key))


@dataclass(frozen=True)
class Slice(Generic[Row]):
    """One page of rows, and the position the next page continues after (None on the last page)."""

    rows: list[Row]
    after: After


def after_cursor(cursor: str | None) -> After:
    """The position a cursor continues after; no cursor is the first page."""
    return decode_cursor(cursor) if cursor else None


def next_cursor(found: Slice[Any]) -> str | None:
    """The cursor of the page after this one, or None on the last page."""
    return encode_cursor(*found.after) if found.after is not None else None
