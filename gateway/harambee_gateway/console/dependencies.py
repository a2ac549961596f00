"""What the console's routes are given: the visitor, the APIs with their token, the CSRF check.

The one place that reads `app.state` for the console.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session, sessionmaker

from harambee_common.auth import TokenVerifier
from harambee_common.problems import Problem
from harambee_gateway.console.api import ConsoleApi
from harambee_gateway.console.config import ConsoleSettings
from harambee_gateway.console.cookies import LANGUAGE_COOKIE, CookieJar
from harambee_gateway.console.i18n import negotiate
from harambee_gateway.console.pages import Pages, Visitor


@dataclass
class ConsoleState:
    """The console's parts, built once when the gateway starts."""

    settings: ConsoleSettings
    cookies: CookieJar
    pages: Pages
    verifier: TokenVerifier
    sessions: sessionmaker[Session]


class SignInRequired(Exception):
    """The page needs a signed-in person; `next` is where to come back to."""

    def __init__(self, next_page: str) -> None:
        super().__init__(next_page)
        self.next_page = next_page


class Refused(Exception):
    """The console itself refuses: the page is not for this person (404, like the services), a form came
    without its CSRF token (403), or a field could not be read (400)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def console_state(request: Request) -> ConsoleState:
    return request.app.state.console


StateDep = Annotated[ConsoleState, Depends(console_state)]


def visitor(request: Request, state: StateDep) -> Visitor:
    """The visitor's language, and their session when it opens and its token still verifies."""
    language = negotiate(chosen=request.cookies.get(LANGUAGE_COOKIE),
                         accept_language=request.headers.get("accept-language"))
    session = state.cookies.session(request.cookies)
    if session is None:
        return Visitor(language=language)
    try:
        principal = state.verifier.verify(session.token)
    except Problem:
        return Visitor(language=language)
    return Visitor(language=language, session=session, principal=principal)


VisitorDep = Annotated[Visitor, Depends(visitor)]


def signed_in(request: Request, seen: VisitorDep) -> Visitor:
    """The visitor, who must be signed in; otherwise they are sent to sign in and brought back."""
    if seen.principal is None:
        raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return seen


SignedIn = Annotated[Visitor, Depends(signed_in)]


async def api(state: StateDep, person: SignedIn) -> AsyncIterator[ConsoleApi]:
    """The APIs, reached through the gateway, with the person's token."""
    assert person.session is not None
    async with httpx.AsyncClient(
        base_url=state.settings.api_url, timeout=state.settings.request_timeout_seconds, trust_env=False
    ) as http:
        yield ConsoleApi(http, person.session.token)


Api = Annotated[ConsoleApi, Depends(api)]


def checked_form(request: Request, state: StateDep, person: SignedIn,
                 csrf: Annotated[str, Form()] = "") -> Visitor:
    """A form's sender: signed in, with the CSRF token of their own session, from the console's origin."""
    origin = request.headers.get("origin")
    public = urlsplit(state.settings.public_url)
    if origin is not None and origin != f"{public.scheme}://{public.netloc}":
        raise Refused(403)
    if not csrf or not hmac.compare_digest(csrf, person.csrf):
        raise Refused(403)
    return person


FormSender = Annotated[Visitor, Depends(checked_form)]


def safe_next(value: str | None) -> str:
    """Where to go after signing in or switching language: a console page, never another site."""
    if not value or not value.startswith("/console") or value.startswith("//") or "\\" in value:
        return "/console/"
    return value
