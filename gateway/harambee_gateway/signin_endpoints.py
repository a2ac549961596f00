"""The sign-in page: `/oauth/authorize` for the authorization-code flow with PKCE.

GET validates the authorization request and shows the form; POST checks the credentials and,
when they are right, redirects back to the app with a one-time code. The request's parameters
travel in hidden fields and are validated again on POST, so nothing is kept between the two.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from harambee_gateway import signin
from harambee_gateway.config import GatewaySettings
from harambee_gateway.oauth import GatewayAuthorizationServer, StarletteOAuth2Request

router = APIRouter(tags=["oauth"])

AUTHORIZATION_PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
# The page may not be framed, cached, or leak its URL (which holds the request's state).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _settings(request: Request) -> GatewaySettings:
    return request.app.state.settings


def _server(request: Request) -> GatewayAuthorizationServer:
    return request.app.state.authorization_server


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


SettingsDep = Annotated[GatewaySettings, Depends(_settings)]
ServerDep = Annotated[GatewayAuthorizationServer, Depends(_server)]
SessionsDep = Annotated[sessionmaker[Session], Depends(_sessions)]


@router.get("/oauth/authorize", response_class=HTMLResponse)
async def sign_in_page(request: Request, settings: SettingsDep, server: ServerDep) -> Response:
    """Shows the sign-in form for a valid authorization request (RFC 6749 §4.1.1, RFC 7636)."""
    parameters = FormData(request.query_params.multi_items())
    oauth_request = StarletteOAuth2Request(request, parameters, settings.issuer)
    try:
        await run_in_threadpool(server.get_consent_grant, oauth_request)
    except OAuth2Error as error:
        return _refusal(server, oauth_request, error)
    return _page(parameters, message=None, status=200)


@router.post("/oauth/authorize", response_class=HTMLResponse)
async def sign_in(request: Request, settings: SettingsDep, server: ServerDep, sessions: SessionsDep) -> Response:
    """Checks the person's credentials and redirects to the app with an authorization code."""
    form = await request.form()
    parameters = FormData([(k, v) for k, v in form.multi_items() if k in AUTHORIZATION_PARAMETERS])
    oauth_request = StarletteOAuth2Request(request, parameters, settings.issuer)
    username, password, otp = (str(form.get(name) or "") for name in ("username", "password", "otp"))
    return await run_in_threadpool(
        _complete_sign_in, server, sessions, oauth_request, parameters, username, password, otp
    )


def _complete_sign_in(
    server: GatewayAuthorizationServer,
    sessions: sessionmaker[Session],
    oauth_request: StarletteOAuth2Request,
    parameters: FormData,
    username: str,
    password: str,
    otp: str,
) -> Response:
    try:
        grant = server.get_consent_grant(oauth_request)
    except OAuth2Error as error:
        return _refusal(server, oauth_request, error)
    failure: signin.SignInFailed | None = None
    # Committed even when sign-in fails: the failure count and the used TOTP step must stick.
    with sessions() as db_session, db_session.begin():
        try:
            person = signin.authenticate(db_session=db_session, username=username, password=password, otp=otp or None)
        except signin.SignInFailed as exc:
            failure = exc
    if failure is not None:
        return _page(
            parameters, message=str(failure), status=401, ask_for_code=isinstance(failure, signin.SecondFactorNeeded)
        )
    if not person.tenants:
        return _page(parameters, message="You hold no role in any programme yet.", status=403)
    return server.create_authorization_response(request=oauth_request, grant_user=person, grant=grant)


def _refusal(server: GatewayAuthorizationServer, oauth_request: StarletteOAuth2Request, error: OAuth2Error) -> Response:
    """An error goes back to the app only when its redirect URI was verified; otherwise it is shown here."""
    if error.redirect_uri:
        return server.handle_error_response(oauth_request, error)
    body = (
        "<h1>This sign-in link is not valid</h1>"
        f"<p>{escape(error.description or error.error)}</p>"
        "<p>Go back to the application and try again.</p>"
    )
    return HTMLResponse(_document(body), status_code=400, headers=PAGE_HEADERS)


def _page(parameters: FormData, *, message: str | None, status: int, ask_for_code: bool = False) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(str(v))}">'
        for k, v in parameters.multi_items()
        if k in AUTHORIZATION_PARAMETERS
    )
    alert = f'<p role="alert" class="error">{escape(message)}</p>' if message else ""
    code_hint = "required" if ask_for_code else "if your programme asks for one"
    body = f"""<h1>Sign in to Harambee</h1>{alert}
<form method="post" action="/oauth/authorize">{hidden}
<label>Username <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<label>One-time code ({code_hint})
<input name="otp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{{6}}"></label>
<button type="submit">Sign in</button>
</form>"""
    return HTMLResponse(_document(body), status_code=status, headers=PAGE_HEADERS)


def _document(body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign in · Harambee</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0}}input{{display:block;width:100%;padding:.4rem}}
button{{padding:.5rem 1.2rem}}.error{{color:#a00}}</style></head>
<body>{body}</body></html>"""
