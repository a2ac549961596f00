"""The gateway's own routes: token endpoint, discovery documents and health."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from harambee_common.openapi_contract import responses_for
from harambee_common.problems import PayloadTooLarge, ServiceUnavailable, problem_response
from harambee_gateway import clients, oauth, repository, security_events
from harambee_gateway.config import GatewaySettings
from harambee_gateway.oauth import GatewayAuthorizationServer
from harambee_gateway.oauth_limits import TOO_MANY_TOKEN_REQUESTS, OAuthLimits, OAuthLimitsDep, client_address
from harambee_gateway.ratelimit import TooManyRequests, retry_after
from harambee_gateway.schemas import AuthorizationServerMetadata, Health, OAuthError, TokenRequest, TokenResponse
from harambee_gateway.signing import KeyRing
from harambee_gateway.unit_of_work import registry_unit_of_work

router = APIRouter()
TOKEN_PATH = "/oauth/token"


def _settings(request: Request) -> GatewaySettings:
    return request.app.state.settings


def _authorization_server(request: Request) -> GatewayAuthorizationServer:
    return request.app.state.authorization_server


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


SettingsDep = Annotated[GatewaySettings, Depends(_settings)]
AuthorizationServerDep = Annotated[GatewayAuthorizationServer, Depends(_authorization_server)]
SessionsDep = Annotated[sessionmaker[Session], Depends(_sessions)]


def _oauth_error(description: str) -> dict[str, Any]:
    return {"description": description, "model": OAuthError}


@router.post(
    TOKEN_PATH, tags=["oauth"],
    responses={
        200: {"description": "The access token", "model": TokenResponse},
        400: _oauth_error("The request is malformed, or its grant, grant type or scope is refused"),
        401: _oauth_error("The client could not be authenticated (invalid_client)"),
        **responses_for(PayloadTooLarge),
        429: TOO_MANY_TOKEN_REQUESTS,
        # Also when no key may sign (the signing keys are not loaded, or only the retired bootstrap key is left):
        # nothing is issued. Documented as a problem for every operation (openapi_contract).
    },
    openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
        "schema": TokenRequest.model_json_schema()}}}},
)
async def issue_token(
    request: Request, settings: SettingsDep, server: AuthorizationServerDep, limits: OAuthLimitsDep
) -> Response:
    """Issues an access token (RFC 6749 client-credentials grant; errors per RFC 6749 §5.2)."""
    # Before the form is read: a flood from one address costs no parsing.
    if wait := limits.wait(address=client_address(request)):
        return _too_many_token_requests(wait)
    oauth_request = await oauth.read_token_request(request, public_base_url=settings.issuer)
    client_id = oauth_request.form.get("client_id") or _basic_client_id(request)
    response = await _token_response(request, server, limits, oauth_request, client_id,
                                     secret_presented=_presents_secret(request, oauth_request))
    origin = request.headers.get("origin")
    client_id = oauth_request.form.get("client_id")
    if origin and client_id:
        # A single-page app exchanges its code from the browser: let its own origin read the answer.
        origins = await run_in_threadpool(_browser_origins, request.app.state.sessions, client_id)
        if origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
    return response


async def redeem_code(request: Request, form: dict[str, str]) -> Response:
    """The token endpoint's answer to an authorization-code request made inside the gateway, for `request`'s sender.

    The console's callback redeems the code the browser brought back without a request of its own to
    `/oauth/token`: over HTTP it would come from the gateway's own address, and every person signing in
    through the console would share that address's bucket. Here it spends the bucket the browser's own
    request to `/oauth/token` would (its address; presenting no secret, it spends no client id's:
    _token_response), so a caller of the callback gains nothing over calling the token endpoint itself.
    """
    settings: GatewaySettings = request.app.state.settings
    limits: OAuthLimits = request.app.state.oauth_limits
    if wait := limits.wait(address=client_address(request)):
        return _too_many_token_requests(wait)
    # The token request as it would arrive: posted to the token endpoint, with no headers (no client secret).
    token_request = Request({"type": "http", "method": "POST", "path": TOKEN_PATH, "query_string": b"",
                             "headers": []})
    oauth_request = oauth.StarletteOAuth2Request(token_request, FormData(form), settings.issuer)
    response = await _token_response(request, request.app.state.authorization_server, limits, oauth_request,
                                     form.get("client_id"), secret_presented=False)
    if response.background is not None:  # the callback answers with a page of its own: record the refusal now
        await response.background()
        response.background = None
    return response


async def _token_response(request: Request, server: GatewayAuthorizationServer, limits: OAuthLimits,
                          oauth_request: oauth.StarletteOAuth2Request, client_id: str | None, *,
                          secret_presented: bool) -> Response:
    """The answer to a token request whose address has been limited: the client id's bucket, then the grant.

    The client id's bucket bounds guesses at that client's secret, from however many addresses they come.
    A request presenting no secret (a public client redeeming a code, which is single-use and bound to the
    browser's PKCE verifier) has nothing to guess: it spends its address's bucket only. Were it to spend
    its client id's too, everyone signing in through one app would share one bucket, and a single address
    sending junk codes at its own rate could drain it and lock them all out.
    """
    if secret_presented and (wait := limits.wait(address=None, client_id=client_id)):
        return _too_many_token_requests(wait)
    # Client lookup and secret verification (argon2 for a legacy hash) block; keep them off the event loop.
    response = await run_in_threadpool(server.create_token_response, oauth_request)
    if response.status_code >= 400:  # refusals are audited; issued tokens are not personal data
        # Once the answer has gone: a refusal naming a registered client is written to the outbox and one
        # naming none only counted, and the time that write takes must not tell a caller which client ids exist.
        response.background = BackgroundTask(_record_refusal, request, oauth_request, response, client_id)
    return response


def _presents_secret(request: Request, oauth_request: oauth.StarletteOAuth2Request) -> bool:
    """Whether a token request carries a client secret (client_secret_basic or client_secret_post)."""
    scheme = request.headers.get("authorization", "").partition(" ")[0]
    return scheme.lower() == "basic" or "client_secret" in oauth_request.form


def _basic_client_id(request: Request) -> str | None:
    """The client id of a client_secret_basic Authorization header (never the secret)."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return unquote(base64.b64decode(encoded).decode().partition(":")[0]) or None
    except (ValueError, UnicodeDecodeError):
        return None


def _too_many_token_requests(wait: float) -> Response:
    """429 as a problem document that OAuth clients can read too (it carries an RFC 6749 `error`)."""
    problem = TooManyRequests(
        "Too many token requests from this address or for this client; retry after the time given.",
        error="temporarily_unavailable",
    )
    problem.headers.update({"Retry-After": retry_after(wait), "Cache-Control": "no-store"})
    return problem_response(problem)


def _record_refusal(request: Request, oauth_request: oauth.StarletteOAuth2Request,
                    response: Response, client_id: str | None) -> None:
    with registry_unit_of_work(request.app.state.sessions) as uow:
        security_events.record_token_refusal(
            uow=uow, counter=request.app.state.refusal_counter, client_id=client_id,
            grant_type=oauth_request.form.get("grant_type"), status=response.status_code, body=bytes(response.body))


def _browser_origins(sessions: sessionmaker[Session], client_id: str) -> frozenset[str]:
    with sessions() as db_session:
        return clients.browser_origins(db_session=db_session, client_id=client_id)


@router.get("/.well-known/jwks.json", tags=["discovery"])
def jwks(request: Request, response: Response) -> dict[str, Any]:
    """The public keys that verify access tokens."""
    signing_key: KeyRing = request.app.state.signing_key
    response.headers["Cache-Control"] = "public, max-age=300"
    return signing_key.public_jwks()


@router.get("/.well-known/oauth-authorization-server", tags=["discovery"])
def authorization_server_metadata(settings: SettingsDep) -> AuthorizationServerMetadata:
    """RFC 8414 metadata of this authorization server."""
    return AuthorizationServerMetadata(
        issuer=settings.issuer,
        token_endpoint=f"{settings.issuer}/oauth/token",
        jwks_uri=f"{settings.issuer}/.well-known/jwks.json",
        grant_types_supported=list(oauth.GRANT_TYPES),
        token_endpoint_auth_methods_supported=[*oauth.AUTH_METHODS, oauth.PUBLIC_AUTH_METHOD],
        scopes_supported=list(oauth.SCOPES_SUPPORTED),
        response_types_supported=["code"],
        authorization_endpoint=f"{settings.issuer}/oauth/authorize",
        code_challenge_methods_supported=["S256"],
    )


@router.get("/healthz", tags=["health"])
def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/readyz", tags=["health"])
def readyz(request: Request, sessions: SessionsDep) -> Health:
    """The registry database is reachable and a signing key may sign."""
    try:
        with sessions() as db_session:
            repository.database_is_reachable(db_session=db_session)
    except SQLAlchemyError as exc:
        raise ServiceUnavailable("The registry database is unreachable.") from exc
    request.app.state.signing_key.signing()  # NoSigningKey, a 503, when none may
    return Health(status="ready")
