"""Keyset pagination, one way for every list: opaque cursors, pages that inserts never shift.

A list pages in a fixed order of columns ending in a unique key (a `Keyset`). A cursor names the
last row of the page before, encoded from those columns' values; decoding checks each value against
its column's type and range, so a cursor the API did not issue is a 422 problem, never a 500.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from harambee_common.problems import ValidationFailed

T = TypeVar("T")
Row = TypeVar("Row")

# PostgreSQL's bigint: a larger path or query integer could never name a row, and would fail in the driver.
BIGINT_MAX = 2**63 - 1

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=1000, description="The `next_cursor` of the previous page")]
# A sequence number or other bigint key named in a path or a query.
BigIntPath = Annotated[int, Path(ge=0, le=BIGINT_MAX)]
BigIntQuery = Annotated[int, Query(ge=0, le=BIGINT_MAX)]


class Page(BaseModel, Generic[T]):
    """One page of a list, and the cursor of the next (null on the last page).

    Subclass it per list (`class CasePage(Page[CaseView])`): the subclass's name and docstring are
    what the OpenAPI document and generated clients call it.
    """

    # A response always carries next_cursor (null on the last page): OpenAPI marks it required.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[T]
    next_cursor: str | None = None


# The Python types a cursor value may have, and how each is read back from JSON.
def _read_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BIGINT_MAX:
        raise ValueError("not a bigint")
    return value


def _read_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


_READERS = {
    datetime: lambda v: datetime.fromisoformat(_read_text(v)),
    date: lambda v: date.fromisoformat(_read_text(v)),
    uuid.UUID: lambda v: uuid.UUID(_read_text(v)),
    int: _read_int,
    str: _read_text,
}


def _write(value: Any) -> Any:
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def encode_cursor(*values: Any) -> str:
    """The cursor of a position: its key values, opaque to clients."""
    raw = json.dumps([_write(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *types: type) -> tuple[Any, ...]:
    """The position a cursor names, each value checked against its type; a 422 problem otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong shape")
        return tuple(_READERS[t](v) for t, v in zip(types, values, strict=True))
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ValidationFailed("The cursor is not one this API issued.") from exc


@dataclass(frozen=True)
class Keyset:
    """The order a list pages in: columns whose values, together, are unique (the last is a key).

    `types` are the columns' Python types, which a cursor's values are checked against;
    `descending` pages newest first.
    """

    columns: tuple[Any, ...]
    types: tuple[type, ...]
    descending: bool = False

    def __post_init__(self) -> None:
        if len(self.columns) != len(self.types):
            raise ValueError("a keyset needs one type per column")

    def decode(self, cursor: str | None) -> tuple[Any, ...] | None:
        """The position a cursor continues after; no cursor is the first page."""
        return None if cursor is None else decode_cursor(cursor, *self.types)

    def position(self, row: Any) -> tuple[Any, ...]:
        """Where a row stands in this order (attributes named as the columns' keys)."""
        return tuple(getattr(row, column.key) for column in self.columns)

    def ordered(self, query: sa.Select, after: tuple[Any, ...] | None) -> sa.Select:
        """The query in this order, continuing after a position."""
        if after is not None:
            bound = sa.tuple_(*(sa.literal(v) for v in after))
            key = sa.tuple_(*self.columns)
            query = query.where(key < bound if self.descending else key > bound)
        order = [c.desc() for c in self.columns] if self.descending else list(self.columns)
        return query.order_by(*order)


@dataclass(frozen=True)
class Slice(Generic[Row]):
    """One page of rows, and the cursor of the next (None on the last page)."""

    rows: list[Row]
    next_cursor: str | None


def paginate(session: Session, query: sa.Select, *, keyset: Keyset, cursor: str | None, limit: int,
             scalars: bool = True) -> Slice[Any]:
    """Runs one page of a query in the keyset's order (one row more than the page, to know if there is more)."""
    statement = keyset.ordered(query, keyset.decode(cursor)).limit(limit + 1)
    found: Sequence[Any] = (session.scalars(statement) if scalars else session.execute(statement)).all()
    rows = list(found[:limit])
    more = len(found) > limit
    return Slice(rows=rows, next_cursor=encode_cursor(*keyset.position(rows[-1])) if more and rows else None)
