"""The sign-in page: `/oauth/authorize` for the authorization-code flow with PKCE.

GET validates the authorization request and shows the form; POST checks the credentials and,
when they are right, redirects back to the app with a one-time code. The request's parameters
travel in hidden fields and are validated again on POST, so nothing is kept between the two.

With `tenant=<slug>` (sent by the app, or chosen on the page) and a tenant that trusts an external
OpenID Connect provider, GET sends the person to that provider instead; they come back to
`/oauth/external/callback/<tenant>` (one callback per directory), and the same authorization request is
resumed (external_signin).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from harambee_gateway import external_signin, identity_providers, security_events, signin
from harambee_gateway.config import GatewaySettings
from harambee_gateway.external_signin import BROWSER_COOKIE, ExternalSignInRefused
from harambee_gateway.oauth import GatewayAuthorizationServer, StarletteOAuth2Request
from harambee_gateway.oauth_limits import OAuthLimitsDep, UsernameKeys, client_address
from harambee_gateway.ratelimit import retry_after
from harambee_gateway.secret_box import SecretBox
from harambee_gateway.unit_of_work import registry_unit_of_work

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


def _pages(meanings: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a sign-in route: pages for a person (a redirect to the app or its directory)."""
    html = {"text/html": {"schema": {"type": "string"}}}
    responses: dict[int | str, dict[str, Any]] = {
        302: {"description": "On to the application (with a code, or an error and the state) or to the directory"},
    }
    for status, meaning in meanings.items():
        responses[status] = {"description": meaning, "content": html}
    return responses


_REFUSED = "A page saying why: the sign-in link is not valid, or a request the page cannot take"
_TOO_MANY = "Too many attempts from this address, for this app or on this account (Retry-After)"
_DIRECTORY_DOWN = "The programme's directory cannot be reached or is not set up"


def _settings(request: Request) -> GatewaySettings:
    return request.app.state.settings


def _server(request: Request) -> GatewayAuthorizationServer:
    return request.app.state.authorization_server


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


SettingsDep = Annotated[GatewaySettings, Depends(_settings)]
ServerDep = Annotated[GatewayAuthorizationServer, Depends(_server)]
SessionsDep = Annotated[sessionmaker[Session], Depends(_sessions)]


@router.get("/oauth/authorize", response_class=HTMLResponse, responses=_pages({400: _REFUSED, 429: _TOO_MANY}))
async def sign_in_page(
    request: Request, settings: SettingsDep, server: ServerDep, sessions: SessionsDep, limits: OAuthLimitsDep
) -> Response:
    """Shows the sign-in form for a valid authorization request (RFC 6749 §4.1.1, RFC 7636)."""
    # Only public clients sign people in, and they present no secret: no client id's bucket (endpoints._token_response).
    if wait := limits.wait(address=client_address(request)):
        return _too_many_attempts(wait)
    parameters = FormData(request.query_params.multi_items())
    oauth_request = StarletteOAuth2Request(request, parameters, settings.issuer)
    try:
        await run_in_threadpool(server.get_consent_grant, oauth_request)
    except OAuth2Error as error:
        return _refusal(server, oauth_request, error)
    tenant = (request.query_params.get("tenant") or "").strip()
    if tenant:
        return await run_in_threadpool(_depart, request, settings, sessions, parameters, tenant)
    return _page(parameters, message=None, status=200)


def _depart(
    request: Request, settings: GatewaySettings, sessions: sessionmaker[Session], parameters: FormData, tenant: str
) -> Response:
    """Sends the person to their tenant's provider, or back to the form when it trusts none."""
    browser = external_signin.browser_token(request.cookies.get(BROWSER_COOKIE))
    kept = {k: str(v) for k, v in parameters.items() if k in AUTHORIZATION_PARAMETERS}
    with sessions() as db_session, db_session.begin():
        departure = external_signin.begin(
            db_session=db_session,
            tenant=tenant,
            authorization_request=kept,
            browser=browser,
            redirect_uri=identity_providers.callback_url(gateway_issuer=settings.issuer, tenant=tenant),
        )
    if departure is None:
        message = "That programme does not sign in through its own directory: use your username and password."
        return _page(parameters, message=message, status=400)
    response = RedirectResponse(departure.url, status_code=302, headers={"Cache-Control": "no-store"})
    # Lax, so that it comes back with the provider's top-level redirect; scoped to the OAuth paths.
    response.set_cookie(
        BROWSER_COOKIE,
        departure.browser_token,
        max_age=int(external_signin.SIGN_IN_TTL.total_seconds()),
        path="/oauth",
        secure=settings.issuer.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get(identity_providers.CALLBACK_PATH, response_class=HTMLResponse, responses=_pages({
    400: _REFUSED, 403: "The directory's answer does not admit this person here", 429: _TOO_MANY,
    503: _DIRECTORY_DOWN}))
async def external_callback(
    tenant: str, request: Request, settings: SettingsDep, server: ServerDep, limits: OAuthLimitsDep
) -> Response:
    """Where a tenant's provider returns the person: validate, map to a person, resume the app's request."""
    # The app's client id is known only once the pending sign-in is claimed: the address alone is limited.
    if wait := limits.wait(address=client_address(request)):
        return _too_many_attempts(wait)
    return await run_in_threadpool(_return_from_provider, request, settings, server, tenant)


def _return_from_provider(
    request: Request, settings: GatewaySettings, server: GatewayAuthorizationServer, tenant: str
) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    query = request.query_params
    state, code = query.get("state"), query.get("code")
    try:
        if not state:
            raise ExternalSignInRefused("This page is reached from your programme's directory only.", status=400)
        # Committed as spent before the provider is asked, so a return works once whatever follows.
        with sessions() as db_session, db_session.begin():
            pending = external_signin.claim(
                db_session=db_session,
                box=request.app.state.provider_secrets,
                state=state,
                browser=request.cookies.get(BROWSER_COOKIE),
            )
        # Checked before the code goes anywhere: a mixed-up code is never sent to this directory's token endpoint.
        # One callback per directory: an answer must come back where its own directory's sign-ins return.
        if pending.tenant != tenant:
            raise ExternalSignInRefused("The answer came back to another directory's sign-in than the one you left.")
        # RFC 9207: a response that names its issuer must name the directory this sign-in left for; from a
        # directory that says it always names itself, one that does not is refused too.
        returned_issuer = query.get("iss")
        if returned_issuer is None and pending.iss_required:
            raise ExternalSignInRefused("The answer did not say which directory it came from.")
        if returned_issuer is not None and returned_issuer != pending.issuer:
            raise ExternalSignInRefused("The answer came from another directory than the one you were sent to.")
        if query.get("error") or not code:
            raise ExternalSignInRefused("The sign-in at your programme's directory was cancelled or failed.")
        claims = external_signin.verify_at_provider(
            pending=pending,
            code=code,
            redirect_uri=identity_providers.callback_url(gateway_issuer=settings.issuer, tenant=tenant),
            keys=request.app.state.provider_keys,
        )
        with registry_unit_of_work(sessions) as uow:
            person = external_signin.person_for(db_session=uow.session, pending=pending, claims=claims)
            security_events.record_sign_in(uow=uow, person=person, failure=None,
                                           client_id=pending.authorization_request.get("client_id"))
    except ExternalSignInRefused as refusal:
        return _notice("You could not be signed in", str(refusal), status=refusal.status)
    parameters = FormData(list(pending.authorization_request.items()))
    oauth_request = StarletteOAuth2Request.resumed(request, parameters, settings.issuer)
    try:
        grant = server.get_consent_grant(oauth_request)
    except OAuth2Error as error:
        return _refusal(server, oauth_request, error)
    return server.create_authorization_response(request=oauth_request, grant_user=person, grant=grant)


@router.post("/oauth/authorize", response_class=HTMLResponse, responses=_pages({
    400: _REFUSED, 401: "The form again: wrong credentials, or a second factor is needed",
    403: "The form again: the person holds no role in any programme", 429: _TOO_MANY}))
async def sign_in(
    request: Request, settings: SettingsDep, server: ServerDep, sessions: SessionsDep, limits: OAuthLimitsDep
) -> Response:
    """Checks the person's credentials and redirects to the app with an authorization code."""
    address = client_address(request)
    if wait := limits.wait(address=address):
        return _too_many_attempts(wait)
    form = await request.form()
    parameters = FormData([(k, v) for k, v in form.multi_items() if k in AUTHORIZATION_PARAMETERS])
    oauth_request = StarletteOAuth2Request(request, parameters, settings.issuer)
    username, password, otp = (str(form.get(name) or "") for name in ("username", "password", "otp"))
    username_keys: UsernameKeys = request.app.state.username_keys
    username_key = username_keys.of(username)
    # Per account too, whoever tries it: guesses spread over many addresses still queue here.
    if wait := limits.wait(address=None, username_key=username_key):
        return _too_many_attempts(wait)
    return await run_in_threadpool(
        _complete_sign_in,
        server,
        sessions,
        request.app.state.totp_secrets,
        oauth_request,
        parameters,
        username,
        username_key,
        password,
        otp,
    )


def _complete_sign_in(
    server: GatewayAuthorizationServer,
    sessions: sessionmaker[Session],
    totp_box: SecretBox,
    oauth_request: StarletteOAuth2Request,
    parameters: FormData,
    username: str,
    username_key: str,
    password: str,
    otp: str,
) -> Response:
    try:
        grant = server.get_consent_grant(oauth_request)
    except OAuth2Error as error:
        return _refusal(server, oauth_request, error)
    failure: signin.SignInFailed | None = None
    # Committed even when sign-in fails: the failure count and the used TOTP step must stick.
    with registry_unit_of_work(sessions) as uow:
        person = None
        try:
            person = signin.authenticate(
                db_session=uow.session, box=totp_box, username=username, password=password, otp=otp or None
            )
        except signin.SignInFailed as exc:
            failure = exc
        security_events.record_sign_in(uow=uow, person=person, failure=failure,
                                       client_id=parameters.get("client_id"), username_key=username_key)
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
    return _notice("This sign-in link is not valid", error.description or error.error, status=400)


def _too_many_attempts(wait: float) -> HTMLResponse:
    """429: too many sign-in requests from this address, for this app or on this account."""
    page = _notice("Too many attempts", "Too many sign-in attempts: wait a moment before trying again.", status=429)
    page.headers["Retry-After"] = retry_after(wait)
    return page


def _notice(title: str, message: str, *, status: int) -> HTMLResponse:
    """A page that ends the sign-in here, saying why."""
    body = f"<h1>{escape(title)}</h1><p>{escape(message)}</p><p>Go back to the application and try again.</p>"
    return HTMLResponse(_document(body), status_code=status, headers=PAGE_HEADERS)


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
</form>
<form method="get" action="/oauth/authorize">{hidden}
<label>Or sign in through your programme's own directory: programme code
<input name="tenant" placeholder="e.g. ke-kilifi" pattern="[a-z0-9][a-z0-9-]{{1,62}}"></label>
<button type="submit">Continue to your directory</button>
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
