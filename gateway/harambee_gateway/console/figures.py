"""Figures as the APIs give them, shaped for the pages: a cell is a count, or suppressed — never a zero
standing in for a suppressed count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harambee_gateway.console.api import ApiRefused, ConsoleApi

# An API that is not deployed (yet) answers 404 at the gateway, or the service is down.
MISSING = frozenset({404, 502, 503, 504})


@dataclass(frozen=True)
class Cell:
    """One figure: its key, its count (None when suppressed), and whether it was suppressed."""

    key: str
    count: float | None
    suppressed: bool


def cells(items: list[dict[str, Any]]) -> list[Cell]:
    """The API's count items as cells."""
    return [Cell(key=str(i["key"]), count=i.get("count"), suppressed=bool(i.get("suppressed"))) for i in items]


async def case_aggregates(api: ConsoleApi, tenant: str) -> dict[str, Any]:
    """Assessment's counts of the tenant's cases (by status and month opened), as the caller may see them."""
    return await api.get(f"/assessment/v1/tenants/{tenant}/aggregates/cases")


async def optional(api: ConsoleApi, path: str, **params: Any) -> Any | None:
    """An answer from an API that may not be deployed yet: None where it is missing."""
    try:
        return await api.get(path, **params)
    except ApiRefused as refused:
        if refused.status in MISSING:
            return None
        raise
