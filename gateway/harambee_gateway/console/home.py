"""The console's front page: sign in, or the pages this person's roles open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from harambee_common.permissions import Role
from harambee_gateway.console import directory
from harambee_gateway.console.dependencies import StateDep, VisitorDep

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, state: StateDep, visitor: VisitorDep) -> HTMLResponse:
    """Signed out: what the console is and a sign-in button. Signed in: the person's pages."""
    if visitor.principal is None:
        return state.pages.render(request, visitor, "welcome.html")
    # A national compliance officer reviews the county logs its agreements open to it.
    oversight = {
        tenant: await run_in_threadpool(directory.counties_overseen, sessions=state.sessions, tenant=tenant)
        for tenant, roles in visitor.principal.tenants.items()
        if Role.compliance_officer in roles
    }
    return state.pages.render(request, visitor, "home.html", oversight=oversight)
