"""The one way a lookup of what a request names turns "there is none" into a 404 problem."""

from __future__ import annotations

from typing import TypeVar

from harambee_common.problems import NotFound

Row = TypeVar("Row")


def or_not_found(row: Row | None, detail: str) -> Row:
    """The row found; NotFound with the detail when there is none."""
    if row is None:
        raise NotFound(detail)
    return row
