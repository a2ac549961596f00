"""Signing in and out: the gateway's authorization-code flow with PKCE, as any public client does it.

`/console/sign-in` sends the browser to `/oauth/authorize` (the gateway's form: password, and the
one-time code where the programme asks for one, or the county's own directory) with a fresh state
and S256 challenge, remembered in a sealed cookie; `/console/callback` checks the state, redeems the
code with the verifier through the token endpoint's own code (in this process, limited as the browser's
request), and keeps the token in the session cookie.
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from harambee_gateway.console import directory
from harambee_gateway.console.config import SCOPES
from harambee_gateway.console.dependencies import StateDep, VisitorDep, checked_form, safe_next
from harambee_gateway.console.i18n import LANGUAGES
from harambee_gateway.endpoints import redeem_code

router = APIRouter(prefix="/console", include_in_schema=False)


async def _client_id(state: StateDep) -> str | None:
    # A registry read (cached once found): off the event loop.
    return await run_in_threadpool(directory.client_id, sessions=state.sessions, configured=state.settings.client_id)


@router.get("/sign-in")
async def sign_in(state: StateDep, visitor: VisitorDep, request: Request,
                  next: Annotated[str | None, Query()] = None) -> Response:
    """Starts a sign-in at the gateway's form."""
    client_id = await _client_id(state)
    if client_id is None:
        return state.pages.render(request, visitor, "unavailable.html", status=503)
    oauth_state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = urlencode({
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": state.settings.redirect_uri,
        "scope": " ".join(SCOPES),
        "state": oauth_state,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    })
    response = RedirectResponse(f"{state.settings.public_url}/oauth/authorize?{query}", status_code=303)
    state.cookies.start_sign_in(response, state=oauth_state, verifier=verifier, next_page=safe_next(next))
    return response


@router.get("/callback")
async def callback(
    state: StateDep,
    visitor: VisitorDep,
    request: Request,
    code: Annotated[str | None, Query()] = None,
    returned_state: Annotated[str | None, Query(alias="state")] = None,
) -> Response:
    """Where the gateway returns the browser: the code is redeemed once, with the verifier only we hold."""
    pending = state.cookies.pending(request.cookies)
    if (pending is None or not code or not returned_state
            or not secrets.compare_digest(pending.state, returned_state)):
        return _failed(state, visitor, request)
    client_id = await _client_id(state)
    if client_id is None:
        return _failed(state, visitor, request)
    # Redeemed in this process, limited by the browser's own address (endpoints.redeem_code): not over HTTP
    # from the gateway's address, whose one bucket everyone signing in through the console would share.
    answer = await redeem_code(request, {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": state.settings.redirect_uri,
        "client_id": client_id,
        "code_verifier": pending.verifier,
    })
    if answer.status_code == 429:
        # The code is not spent: the sign-in stays pending, and reloading the page after Retry-After completes it.
        refused = state.pages.render(request, visitor, "sign_in_failed.html", status=429, too_many=True)
        refused.headers["Retry-After"] = answer.headers["Retry-After"]
        return refused
    if answer.status_code != 200:
        return _failed(state, visitor, request)
    token = json.loads(bytes(answer.body))
    response = RedirectResponse(pending.next, status_code=303)
    state.cookies.start_session(response, token=token["access_token"], expires_in=int(token["expires_in"]))
    state.cookies.end_sign_in(response)
    return response


def _failed(state: StateDep, visitor: VisitorDep, request: Request) -> HTMLResponse:
    response = state.pages.render(request, visitor, "sign_in_failed.html", status=400, too_many=False)
    state.cookies.end_sign_in(response)
    return response


@router.post("/sign-out", dependencies=[Depends(checked_form)])
async def sign_out(state: StateDep) -> Response:
    """Signs out: the session cookie is cleared (the token it held is forgotten by the browser)."""
    response = RedirectResponse("/console/", status_code=303)
    state.cookies.end_session(response)
    return response


@router.get("/language")
async def language(state: StateDep, lang: Annotated[str, Query()], next: Annotated[str | None, Query()] = None,
                   ) -> Response:
    """Switches the language, then returns to the page."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        state.cookies.set_language(response, lang)
    return response
