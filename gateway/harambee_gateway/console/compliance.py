"""The compliance officer's pages: search the audit log, who accessed a person, the break-the-glass
review queue with sign-off, read-volume alerts, and a verifiable export with the command to check it.

Everything comes from the audit service's compliance API (services/audit) with the officer's token:
a national officer reads a county's log only under the county's agreement, and each read is itself
logged there. Entries are shown by reference (subject, actor, type); their data is not shown.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from harambee_common.permissions import Role
from harambee_gateway.console.api import ApiRefused
from harambee_gateway.console.dependencies import Api, Refused, SignedIn, StateDep, checked_form
from harambee_gateway.console.i18n import EAT
from harambee_gateway.console.tenancy import TenantPath, checked_tenant, require_role_anywhere

router = APIRouter(prefix="/console/t/{tenant}/audit", include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]
PAGE_SIZE = 50


def _officer(person: SignedIn, tenant: TenantPath) -> str:
    require_role_anywhere(person, Role.compliance_officer)
    return checked_tenant(tenant)


Tenant = Annotated[str, Depends(_officer)]


def _api(tenant: str, rest: str) -> str:
    return f"/audit/v1/tenants/{tenant}/{rest}"


def _day(value: str | None) -> date | None:
    """A day from a date field: empty is no filter; anything but YYYY-MM-DD is a bad request."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refused(400) from None


def _start_of(day: date | None, *, next_day: bool = False) -> str | None:
    """Midnight in East Africa Time: a date the officer picks is a day in Kenya, not in UTC."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1 if next_day else 0), time(), tzinfo=EAT).isoformat()


@router.get("", response_class=HTMLResponse)
async def search(
    request: Request, state: StateDep, person: SignedIn, api: Api, tenant: Tenant,
    subject: Text = None, actor: Text = None, type: Text = None,
    since: Text = None, until: Text = None, cursor: Text = None,
) -> HTMLResponse:
    """Entries by subject reference, actor, type and day (days in EAT, both ends included)."""
    since, until = _day(since), _day(until)
    page = await api.get(_api(tenant, "entries"), subject=subject, actor=actor, type=type,
                         since=_start_of(since), until=_start_of(until, next_day=True), cursor=cursor,
                         limit=PAGE_SIZE)
    filters = {"subject": subject or "", "actor": actor or "", "type": type or "",
               "since": since.isoformat() if since else "", "until": until.isoformat() if until else ""}
    return state.pages.render(request, person, "audit_search.html", tenant=tenant, page=page, filters=filters,
                              section="search")


@router.get("/accesses", response_class=HTMLResponse)
async def accesses(
    request: Request, state: StateDep, person: SignedIn, api: Api, tenant: Tenant,
    subject: Text = None, cursor: Text = None,
) -> HTMLResponse:
    """Who accessed this person's record (or was refused), across every service."""
    page = None
    if subject:
        page = await api.get(_api(tenant, f"subjects/{quote(subject, safe='')}/accesses"), cursor=cursor,
                             limit=PAGE_SIZE)
    return state.pages.render(request, person, "audit_accesses.html", tenant=tenant, subject=subject or "",
                              page=page, section="accesses")


@router.get("/emergency", response_class=HTMLResponse)
async def emergency_queue(
    request: Request, state: StateDep, person: SignedIn, api: Api, tenant: Tenant,
    status: Annotated[Literal["pending", "signed_off", "flagged", "all"], Query()] = "pending",
    cursor: Text = None, reviewed: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    """The break-the-glass queue, oldest first, with a sign-off form on each pending access."""
    page = await api.get(_api(tenant, "emergency-accesses"), status=status, cursor=cursor, limit=PAGE_SIZE)
    return state.pages.render(request, person, "audit_emergency.html", tenant=tenant, page=page, which=status,
                              reviewed=reviewed, section="emergency")


@router.post("/emergency/{seq}/review", dependencies=[Depends(checked_form)])
async def review(
    api: Api, tenant: Tenant, seq: int,
    decision: Annotated[Literal["signed_off", "flagged"], Form()],
    note: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """Signs off or flags one emergency access (once; the decision is appended to the log)."""
    await api.post(_api(tenant, f"emergency-accesses/{seq}/review"), {"decision": decision, "note": note})
    return RedirectResponse(f"/console/t/{tenant}/audit/emergency?reviewed={seq}", status_code=303)


@router.get("/alerts", response_class=HTMLResponse)
async def alerts(
    request: Request, state: StateDep, person: SignedIn, api: Api, tenant: Tenant,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "open", cursor: Text = None,
) -> HTMLResponse:
    """Actors whose reads on a day were far above their usual level."""
    page = await api.get(_api(tenant, "read-alerts"), status=status, cursor=cursor, limit=PAGE_SIZE)
    return state.pages.render(request, person, "audit_alerts.html", tenant=tenant, page=page, which=status,
                              section="alerts")


@router.post("/alerts/{alert_id}/close", dependencies=[Depends(checked_form)])
async def close_alert(
    api: Api, tenant: Tenant, alert_id: str, note: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """Closes an alert with the officer's note (appended to the log)."""
    await api.post(_api(tenant, f"read-alerts/{quote(alert_id, safe='')}/close"), {"note": note})
    return RedirectResponse(f"/console/t/{tenant}/audit/alerts", status_code=303)


@router.get("/export", response_class=HTMLResponse)
async def export_page(request: Request, state: StateDep, person: SignedIn, api: Api, tenant: Tenant) -> HTMLResponse:
    """The latest signed checkpoint, the download up to it, and the exact command that verifies it."""
    try:
        checkpoint = await api.get(_api(tenant, "checkpoints/latest"))
    except ApiRefused as refused:
        if refused.status != 404:
            raise
        checkpoint = None  # nothing signed yet
    keys = (await api.get("/audit/v1/signing-keys"))["keys"]
    active = next((k for k in keys if k["status"] == "active"), None)
    filename = f"audit-{tenant}-0-{checkpoint['tree_size']}.jsonl" if checkpoint else None
    return state.pages.render(request, person, "audit_export.html", tenant=tenant, checkpoint=checkpoint,
                              key=active, filename=filename, section="export")


@router.get("/export.jsonl")
async def export_download(api: Api, tenant: Tenant, to: Annotated[int, Query(ge=1)]) -> StreamingResponse:
    """The export [0, to) as the audit service streams it: entries, checkpoints and proofs."""
    headers, body = await api.stream(_api(tenant, "export"), to=to)
    kept = {k: v for k, v in headers.items() if k.lower() == "content-disposition"}
    return StreamingResponse(body, media_type="application/jsonl", headers={**kept, "Cache-Control": "no-store"})
