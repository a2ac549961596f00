"""The county programme manager's page: where the programme stands and what needs acting on.

Disparity ratios with their flags come first (the tool against discriminatory over-referral), then the
funnel and timeliness from monitoring, the stalled-plan and overdue flags from interventions, the panel's
next agenda from assessment, and the case counts from assessment's aggregates. Each section shows what its
API answers with the manager's token, and says so where that API is not deployed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from harambee_common.permissions import Role
from harambee_gateway.console import figures
from harambee_gateway.console.api import ConsoleApi
from harambee_gateway.console.dependencies import Api, SignedIn, StateDep, checked_form
from harambee_gateway.console.i18n import EAT
from harambee_gateway.console.tenancy import TenantPath, checked_tenant, require_role_in

router = APIRouter(prefix="/console/t/{tenant}", include_in_schema=False)
# What a manager records on closing a flag (interventions' StaffAction).
FlagAction = Literal["provider_contacted", "person_contacted", "task_reassigned", "plan_changed",
                     "review_scheduled", "provider_revetted", "other"]


async def next_agenda(api: ConsoleApi, tenant: str) -> dict[str, Any] | None:
    """The next panel meeting (today or later, in EAT) and its agenda; None when the API is not there."""
    meetings = await figures.optional(api, f"/assessment/v1/tenants/{tenant}/panel-meetings", limit=50)
    if meetings is None:
        return None
    today = datetime.now(EAT).date().isoformat()
    upcoming = sorted((m for m in meetings["items"] if m["held_on"] >= today), key=lambda m: m["held_on"])
    if not upcoming:
        return {"meeting": None, "items": []}
    meeting = upcoming[0]
    agenda = await api.get(f"/assessment/v1/tenants/{tenant}/panel-meetings/{meeting['id']}/agenda", limit=50)
    return {"meeting": meeting, "items": agenda["items"]}


@router.get("/programme", response_class=HTMLResponse)
async def programme(request: Request, state: StateDep, person: SignedIn, api: Api, tenant: TenantPath,
                    closed: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    """The county's figures, flags and agenda, for its programme manager only."""
    tenant = checked_tenant(tenant)
    require_role_in(person, tenant, Role.programme_manager)
    cases = await figures.case_aggregates(api, tenant)
    indicators = f"/monitoring/v1/tenants/{tenant}/indicators"
    return state.pages.render(
        request, person, "programme.html", tenant=tenant,
        by_status=figures.cells(cases["by_status"]),
        by_month=figures.cells(cases["by_month_opened"]),
        disparity=await figures.optional(api, f"{indicators}/disparity"),
        funnel=await figures.optional(api, f"{indicators}/funnel"),
        timeliness=await figures.optional(api, f"{indicators}/timeliness"),
        flags=await figures.optional(api, f"/interventions/v1/tenants/{tenant}/flags", status="open", limit=50),
        agenda=await next_agenda(api, tenant), closed=closed,
    )


@router.post("/programme/flags/{flag_id}/close", dependencies=[Depends(checked_form)])
async def close_flag(
    person: SignedIn, api: Api, tenant: TenantPath, flag_id: str,
    action: Annotated[FlagAction, Form()], note: Annotated[str, Form(min_length=3, max_length=1000)],
) -> Response:
    """Closes a stalled-plan or overdue flag with the action taken (interventions records it)."""
    tenant = checked_tenant(tenant)
    require_role_in(person, tenant, Role.programme_manager)
    await api.post(f"/interventions/v1/tenants/{tenant}/flags/{quote(flag_id, safe='')}/close",
                   {"action": action, "note": note})
    return RedirectResponse(f"/console/t/{tenant}/programme?closed={quote(flag_id, safe='')}#flags", status_code=303)
