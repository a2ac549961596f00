"""The national coordinator's pages: the counties side by side, one county's trend, and a CSV.

Each county's figures are read with the coordinator's own token, so only a county whose agreement
with the national programme is in force answers, with its small counts suppressed; a suppressed
cell stays suppressed on the page and in the CSV, never a zero.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from harambee_common.permissions import Role
from harambee_gateway.console import directory, figures
from harambee_gateway.console.api import ApiRefused, ConsoleApi
from harambee_gateway.console.dependencies import Api, SignedIn, StateDep
from harambee_gateway.console.tenancy import TenantPath, checked_tenant, require_role_in

router = APIRouter(prefix="/console/t/{tenant}/national", include_in_schema=False)


@dataclass(frozen=True)
class County:
    """One county's column: its cells by status, or why there are none (the API's refusal status)."""

    tenant: str
    by_status: dict[str, figures.Cell]
    by_month: list[figures.Cell]
    threshold: int | None
    refused: int | None = None


async def _county(api: ConsoleApi, tenant: str) -> County:
    try:
        cases = await figures.case_aggregates(api, tenant)
    except ApiRefused as refused:
        if refused.status not in (403, 404):
            raise
        return County(tenant=tenant, by_status={}, by_month=[], threshold=None, refused=refused.status)
    return County(tenant=tenant, by_status={c.key: c for c in figures.cells(cases["by_status"])},
                  by_month=figures.cells(cases["by_month_opened"]), threshold=cases.get("suppression_threshold"))


async def _counties(state: StateDep, person: SignedIn, api: ConsoleApi, tenant: str) -> list[County]:
    require_role_in(person, tenant, Role.national_coordinator)
    overseen = await run_in_threadpool(directory.counties_overseen, sessions=state.sessions, tenant=tenant)
    return [await _county(api, county) for county in overseen]


def _statuses(counties: list[County]) -> list[str]:
    return sorted({key for county in counties for key in county.by_status})


@router.get("", response_class=HTMLResponse)
async def side_by_side(request: Request, state: StateDep, person: SignedIn, api: Api,
                       tenant: TenantPath) -> HTMLResponse:
    """Every overseen county in one table."""
    tenant = checked_tenant(tenant)
    counties = await _counties(state, person, api, tenant)
    indicators = await figures.optional(api, f"/monitoring/v1/tenants/{tenant}/indicators/counties")
    return state.pages.render(request, person, "national.html", tenant=tenant, counties=counties,
                              statuses=_statuses(counties), indicators=indicators)


@router.get("/counties/{county}", response_class=HTMLResponse)
async def trend(request: Request, state: StateDep, person: SignedIn, api: Api, tenant: TenantPath,
                county: str) -> HTMLResponse:
    """One county's cases opened month by month."""
    tenant, county = checked_tenant(tenant), checked_tenant(county)
    require_role_in(person, tenant, Role.national_coordinator)
    cases = await figures.case_aggregates(api, county)
    funnel = await figures.optional(api, f"/monitoring/v1/tenants/{county}/indicators/funnel")
    return state.pages.render(request, person, "national_trend.html", tenant=tenant, county=county,
                              by_month=figures.cells(cases["by_month_opened"]),
                              threshold=cases.get("suppression_threshold"), funnel=funnel)


@router.get("/counties.csv")
async def download(state: StateDep, person: SignedIn, api: Api, tenant: TenantPath) -> Response:
    """The side-by-side table as CSV: one row per county and status; a suppressed cell says so."""
    tenant = checked_tenant(tenant)
    counties = await _counties(state, person, api, tenant)
    indicators = await figures.optional(api, f"/monitoring/v1/tenants/{tenant}/indicators/counties")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["county", "measure", "key", "count", "suppressed", "available", "noisy"])
    for row in (indicators or {}).get("counties", []):
        noisy = "yes" if row["protection"].get("noisy") else "no"
        for column, value in row["figures"].items():
            writer.writerow([row["county"], "indicator", column, "" if value is None else value,
                             "yes" if value is None else "no", "yes", noisy])
    for excluded in (indicators or {}).get("counties_excluded", []):
        writer.writerow([excluded, "indicator", "", "", "", "no", ""])
    for county in counties:
        if county.refused is not None:
            writer.writerow([county.tenant, "cases_by_status", "", "", "", "no", ""])
            continue
        for cell in county.by_status.values():
            writer.writerow([county.tenant, "cases_by_status", cell.key,
                             "" if cell.suppressed else cell.count, "yes" if cell.suppressed else "no", "yes", "no"])
        for cell in county.by_month:
            writer.writerow([county.tenant, "cases_opened_by_month", cell.key,
                             "" if cell.suppressed else cell.count, "yes" if cell.suppressed else "no", "yes", "no"])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{tenant}-counties.csv"', "Cache-Control": "no-store"})
