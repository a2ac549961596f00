"""The indicators as CSV (`Accept: text/csv`): one row per value, long form, ready for a spreadsheet's pivot."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from harambee_monitoring.indicators.schemas import CountyTable, DisparityView, IndicatorView

MEDIA_TYPE = "text/csv"
# What the OpenAPI document says each indicator route can also return.
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {MEDIA_TYPE: {"schema": {"type": "string"}}}}}


def wants_csv(request: Request) -> bool:
    """Whether the client asked for CSV rather than JSON."""
    return MEDIA_TYPE in request.headers.get("accept", "")


def _render(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return Response(out.getvalue(), media_type=f"{MEDIA_TYPE}; charset=utf-8")


def indicator_csv(view: IndicatorView) -> Response:
    """tenant, indicator, table, series, month (or `all`), value (empty: withheld), withheld, partial."""
    def rows() -> Iterable[list[Any]]:
        for table in view.tables:
            for series in table.series:
                for month, value in [*zip(view.months, series.values, strict=True), ("all", series.total)]:
                    yield [view.tenant, view.indicator, table.name, series.key, month, value,
                           month in series.withheld or (month == "all" and series.total is None),
                           month in series.partial]
    return _render(["tenant", "indicator", "table", "series", "month", "value", "withheld", "partial"], rows())


def disparity_csv(view: DisparityView) -> Response:
    """One row per group (and per source type), flagged first."""
    fields = ["dimension", "group", "source_type", "population", "population_share", "referrals", "referral_share",
              "ratio", "referrals_per_10000", "adopted", "adoption_rate", "flagged"]
    ordered = sorted(view.groups, key=lambda g: not g.flagged)
    return _render(["tenant", *fields], ([view.tenant, *(getattr(g, f) for f in fields)] for g in ordered))


def counties_csv(view: CountyTable) -> Response:
    """One row per county, its headline figures as columns."""
    return _render(["county", *view.columns, "protection"],
                   ([row.county, *(row.figures.get(c) for c in view.columns), row.protection.kind]
                    for row in view.counties))


def render(request: Request, view: BaseModel) -> BaseModel | Response:
    """The view as JSON, or as CSV when asked for."""
    if not wants_csv(request):
        return view
    if isinstance(view, IndicatorView):
        return indicator_csv(view)
    if isinstance(view, DisparityView):
        return disparity_csv(view)
    assert isinstance(view, CountyTable)
    return counties_csv(view)
