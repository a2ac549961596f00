"""Mounting the console on the gateway: its routers, static files, and how its refusals look."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from harambee_gateway.config import GatewaySettings
from harambee_gateway.console import compliance, home, national, programme, sign_in
from harambee_gateway.console.api import ApiRefused, TokenRejected
from harambee_gateway.console.config import ConsoleSettings
from harambee_gateway.console.cookies import CookieJar
from harambee_gateway.console.dependencies import ConsoleState, Refused, SignInRequired, visitor
from harambee_gateway.console.pages import Pages

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI, settings: GatewaySettings) -> None:
    """Adds `/console/` to the gateway (after app.state.verifier and app.state.sessions are set)."""
    console = ConsoleSettings.from_env(issuer=settings.issuer)
    app.state.console = ConsoleState(
        settings=console,
        cookies=CookieJar(settings.key_encryption_key, retired=settings.retired_key_encryption_keys,
                          secure=console.secure_cookies),
        pages=Pages(),
        verifier=app.state.verifier,
        sessions=app.state.sessions,
    )
    for module in (home, sign_in, compliance, programme, national):
        app.include_router(module.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(TokenRejected, _token_rejected)
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(ApiRefused, _api_refused)


async def _to_sign_in(request: Request, exc: Exception) -> Response:  # noqa: ARG001 (the handler's signature)
    assert isinstance(exc, SignInRequired)
    return RedirectResponse("/console/sign-in?" + urlencode({"next": exc.next_page}), status_code=303)


async def _token_rejected(request: Request, exc: Exception) -> Response:  # noqa: ARG001 (the handler's signature)
    # The API no longer takes the token (it expired between the page's checks, or its key was retired).
    response = RedirectResponse("/console/sign-in?" + urlencode({"next": request.url.path}), status_code=303)
    request.app.state.console.cookies.end_session(response)
    return response


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return _refusal(request, exc.status, None)


async def _api_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiRefused)
    # A service's 5xx is the service's; the page says it could not get an answer, as a 502.
    return _refusal(request, exc.status if exc.status < 500 else 502, exc.detail)


def _refusal(request: Request, status: int, detail: str | None) -> Response:
    state: ConsoleState = request.app.state.console
    seen = visitor(request, state)
    return state.pages.render(request, seen, "refused.html", status=status, status_code=status, detail=detail)
