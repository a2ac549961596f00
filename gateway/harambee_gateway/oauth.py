"""The OAuth2 authorization server (client-credentials grant) on authlib, adapted to Starlette.

authlib ships no Starlette server integration, so this module supplies the three pieces its
framework integrations provide: a request adapter, a response adapter and client lookup.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any, ClassVar

from authlib.common.encoding import to_unicode
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from harambee_gateway import credentials, service
from harambee_gateway.service import RegisteredClient
from harambee_gateway.signing import ALGORITHM, SigningKey

SCOPES_SUPPORTED = ("referrals:write", "referrals:read", "cases:read", "audit:read")
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("client_credentials",)


class OAuthClient(ClientMixin):
    """A registered client, as authlib asks about it."""

    def __init__(self, registered: RegisteredClient) -> None:
        self.registered = registered

    def get_client_id(self) -> str:
        return self.registered.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The token's scope: what was asked for, or every granted scope when nothing was."""
        if not scope:
            return list_to_scope(sorted(self.registered.scopes))
        requested = scope_to_list(scope)
        if not set(requested) <= self.registered.scopes:
            return None
        return list_to_scope(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return credentials.verify_secret(secret_hash=self.registered.secret_hash, secret=client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class UnknownClient(ClientMixin):
    """Stands in for an unknown or revoked client id: fails like a wrong secret, as slowly."""

    def get_client_id(self) -> str:
        return ""

    def check_client_secret(self, client_secret: str) -> bool:
        credentials.spend_verification_time(secret=client_secret)
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return False


class FormPayload(OAuth2Payload):
    """Form parameters of a token request, already read from the body."""

    def __init__(self, form: FormData) -> None:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in form.multi_items():
            if isinstance(value, str):
                values[key].append(value)
        self._datalist = values
        self._data = {key: items[0] for key, items in values.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):
    """An authlib request built from a Starlette request whose form has been read."""

    def __init__(self, request: Request, form: FormData, public_base_url: str) -> None:
        # authlib refuses plain http except on loopback; behind a TLS-terminating proxy the
        # request arrives as http, so the URI it checks is the public one, from the issuer.
        uri = public_base_url + request.url.path
        if request.url.query:
            uri += "?" + request.url.query
        super().__init__(method=request.method, uri=uri, headers=request.headers)
        self._query = dict(request.query_params)
        self._form = {key: value for key, value in form.items() if isinstance(value, str)}
        self.payload = FormPayload(form)

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


async def read_token_request(request: Request, *, public_base_url: str) -> StarletteOAuth2Request:
    """Reads a token request's form body and wraps it for authlib."""
    form = await request.form()
    return StarletteOAuth2Request(request, form, public_base_url)


class HarambeeTokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 access tokens for the Harambee audience, carrying tenants, roles and org."""

    def __init__(self, *, issuer: str, audience: str, signing_key: SigningKey, ttl_seconds: int) -> None:
        super().__init__(issuer=issuer, alg=ALGORITHM, expires_generator=ttl_seconds)
        self.audience = audience
        self._key_set = signing_key.key_set()

    def get_jwks(self) -> KeySet:
        # A key set (not a bare key) makes joserfc put the key's kid in the header.
        return self._key_set

    def get_audiences(self, client: OAuthClient, user: Any, scope: str) -> str:
        # Every service accepts one audience; the default (the client's own id) is not it.
        return self.audience

    def get_extra_claims(self, client: OAuthClient, grant_type: str, user: Any, scope: str) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "nbf": int(time.time()),
            "tenants": client.registered.tenant_roles,
        }
        if client.registered.organisation:
            claims["org"] = client.registered.organisation
        return claims


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """The client-credentials grant, with scopes limited to what the client was granted."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        requested = set(scope_to_list(self.request.payload.scope) or [])
        if not requested <= set(SCOPES_SUPPORTED):
            raise InvalidScopeError(description="The requested scope is not supported.")
        if not requested <= self.request.client.registered.scopes:
            raise InvalidScopeError(description="The requested scope exceeds the client's grant.")


class GatewayAuthorizationServer(AuthorizationServer):
    """The token endpoint's server: looks clients up in the registry, issues JWTs, stores none."""

    def __init__(
        self, *, session_factory: sessionmaker[Session], token_generator: HarambeeTokenGenerator
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES_SUPPORTED))
        self._session_factory = session_factory
        self.register_token_generator("default", token_generator)
        self.register_grant(ClientCredentialsGrant)

    def query_client(self, client_id: str) -> ClientMixin:
        with self._session_factory() as db_session:
            registered = service.get_registered_client(db_session=db_session, client_id=client_id)
        return OAuthClient(registered) if registered else UnknownClient()

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Access tokens are self-contained JWTs verified by each service: nothing to store.
        return None

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        content = json.dumps(body) if isinstance(body, dict) else to_unicode(body)
        return Response(content, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None
