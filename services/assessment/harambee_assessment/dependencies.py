"""What assessment's endpoints are given besides the principal and the unit of work: the clock.

Tests set `app.state.clock` to move time (a request due yesterday is overdue today) without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _now(request: Request) -> datetime:
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", _utcnow)
    return clock()


NowDep = Annotated[datetime, Depends(_now)]
