"""The county programme manager's page: where the programme stands and what needs acting on.

Case counts come from assessment's aggregates; the funnel, timeliness and disparity indicators from
monitoring, the panel's next agenda from assessment, and stalled-plan and overdue flags from
interventions — each section shows what its API answers, and says so where that API is not there.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from harambee_common.permissions import Role
from harambee_gateway.console import figures
from harambee_gateway.console.dependencies import Api, SignedIn, StateDep
from harambee_gateway.console.tenancy import TenantPath, checked_tenant, require_role_in

router = APIRouter(prefix="/console/t/{tenant}", include_in_schema=False)


@router.get("/programme", response_class=HTMLResponse)
async def programme(request: Request, state: StateDep, person: SignedIn, api: Api, tenant: TenantPath) -> HTMLResponse:
    """The county's figures, flags and agenda, for its programme manager only."""
    tenant = checked_tenant(tenant)
    require_role_in(person, tenant, Role.programme_manager)
    cases = await figures.case_aggregates(api, tenant)
    return state.pages.render(
        request, person, "programme.html", tenant=tenant,
        by_status=figures.cells(cases["by_status"]),
        by_month=figures.cells(cases["by_month_opened"]),
        funnel=await figures.optional(api, f"/monitoring/v1/tenants/{tenant}/indicators/funnel"),
        timeliness=await figures.optional(api, f"/monitoring/v1/tenants/{tenant}/indicators/timeliness"),
        disparity=await figures.optional(api, f"/monitoring/v1/tenants/{tenant}/indicators/disparity"),
        agenda=await figures.optional(api, f"/assessment/v1/tenants/{tenant}/panel/agenda"),
        flags=await figures.optional(api, f"/interventions/v1/tenants/{tenant}/flags"),
    )
