"""The OAuth2 authorization server on authlib, adapted to Starlette.

Machine clients use the client-credentials grant; people sign in through the authorization-code
grant with PKCE (S256 only) from public clients (single-page apps).

authlib ships no Starlette server integration, so this module supplies the three pieces its
framework integrations provide: a request adapter, a response adapter and client lookup.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlencode

from authlib.common.encoding import to_unicode
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError, OAuth2Error
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import override

from harambee_common.permissions import Scope
from harambee_gateway import client_secrets, clients, signin
from harambee_gateway.clients import RegisteredClient
from harambee_gateway.signin import SignedInPerson
from harambee_gateway.signing import ALGORITHM, KeyRing, SigningKey

# One list of scopes (harambee_common.permissions): the admin API validates against the same.
SCOPES_SUPPORTED: tuple[str, ...] = tuple(scope.value for scope in Scope)
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
PUBLIC_AUTH_METHOD = "none"
GRANT_TYPES = ("client_credentials", "authorization_code")

log = logging.getLogger(__name__)


class OAuthClient(ClientMixin):
    """A registered client, as authlib asks about it."""

    def __init__(self, registered: RegisteredClient, *, session_factory: sessionmaker[Session] | None = None) -> None:
        self.registered = registered
        # Where a legacy hash its secret matches is replaced by the secret's digest; without it, it is not.
        self._session_factory = session_factory

    @override
    def get_client_id(self) -> str:
        return self.registered.client_id

    @override
    def get_default_redirect_uri(self) -> None:
        # Every authorization request names its redirect URI; it must match one registered exactly.
        return None

    @override
    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The token's scope: what was asked for, or every granted scope when nothing was."""
        if not scope:
            return list_to_scope(sorted(self.registered.scopes))
        requested = scope_to_list(scope)
        if not set(requested) <= self.registered.scopes:
            return None
        return list_to_scope(requested)

    @override
    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.registered.redirect_uris

    @override
    def check_client_secret(self, client_secret: str) -> bool:
        if self.registered.is_public:
            return False
        # During a rotation callers still holding the previous secret keep working.
        for secret_hash in (self.registered.secret_hash, self.registered.previous_secret_hash):
            if secret_hash and client_secrets.verify_client_secret(secret_hash=secret_hash, secret=client_secret):
                if client_secrets.is_legacy(secret_hash):
                    self._upgrade(secret_hash, client_secret)
                return True
        return False

    def _upgrade(self, legacy_hash: str, client_secret: str) -> None:
        """Stores the secret's digest in place of the argon2 hash it matched: the next request is fast."""
        if self._session_factory is None:
            return
        with self._session_factory() as db_session, db_session.begin():
            clients.upgrade_secret_hash(db_session=db_session, client_id=self.registered.client_id,
                                        legacy_hash=legacy_hash, secret=client_secret)
        log.info("client %s: its secret's argon2 hash replaced by its SHA-256 digest", self.registered.client_id)

    @override
    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint != "token":
            return False
        return method == PUBLIC_AUTH_METHOD if self.registered.is_public else method in AUTH_METHODS

    @override
    def check_response_type(self, response_type: str) -> bool:
        return self.registered.is_public and response_type == "code"

    @override
    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == ("authorization_code" if self.registered.is_public else "client_credentials")


class UnknownClient(ClientMixin):
    """Stands in for an unknown or revoked client id: fails like a wrong secret, with the same work."""

    @override
    def get_client_id(self) -> str:
        return ""

    @override
    def check_client_secret(self, client_secret: str) -> bool:
        client_secrets.spend_verification_time(secret=client_secret)
        return False

    @override
    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return False

    @override
    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    @override
    def check_response_type(self, response_type: str) -> bool:
        return False

    @override
    def check_grant_type(self, grant_type: str) -> bool:
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

    @classmethod
    def resumed(cls, request: Request, parameters: FormData, public_base_url: str) -> StarletteOAuth2Request:
        """An authorization request kept while the person signed in elsewhere, as if it were sent again."""
        resumed = cls(request, parameters, public_base_url)
        resumed._query = {key: value for key, value in parameters.items() if isinstance(value, str)}
        resumed.uri = f"{public_base_url}/oauth/authorize?{urlencode(resumed._query)}"
        return resumed

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

    def __init__(self, *, issuer: str, audience: str, signing_key: SigningKey | KeyRing, ttl_seconds: int) -> None:
        super().__init__(issuer=issuer, alg=ALGORITHM, expires_generator=ttl_seconds)
        self.audience = audience
        self._signing_key = signing_key

    @override
    def get_jwks(self) -> KeySet:
        # Asked per token: after a rotation the new key signs from its appointed time.
        # A key set (not a bare key) makes joserfc put the key's kid in the header.
        return self._signing_key.key_set()

    @override
    def get_audiences(self, client: OAuthClient, user: Any, scope: str) -> str:
        # Every service accepts one audience; the default (the client's own id) is not it.
        return self.audience

    @override
    def get_extra_claims(self, client: OAuthClient, grant_type: str, user: Any, scope: str) -> dict[str, Any]:
        # A person's token carries the person's roles and organisation, not the app's.
        if isinstance(user, SignedInPerson):
            tenants, held, holder = user.tenants, user.tenant_scopes, user
        else:
            registered = client.registered
            tenants, held, holder = registered.tenant_roles, registered.tenant_scopes, registered
        # `scope` stays the union (RFC 9068); services check `tenant_scopes`, each tenant's own share of it.
        granted = set(scope_to_list(scope) or [])
        tenant_scopes = {tenant: sorted(held.get(tenant, frozenset()) & granted) for tenant in tenants}
        claims: dict[str, Any] = {"nbf": int(time.time()), "tenants": tenants, "tenant_scopes": tenant_scopes}
        if holder.organisation:
            # The kind says whether the organisation is an outside party (harambee_common.agreements.party_of).
            claims["org"], claims["org_kind"] = holder.organisation, holder.organisation_kind
        return claims

    @override
    def get_auth_time(self, user: Any) -> int | None:
        return user.auth_time if isinstance(user, SignedInPerson) else None

    @override
    def get_amr(self, user: Any) -> list[str] | None:
        return list(user.amr) if isinstance(user, SignedInPerson) else None


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """The client-credentials grant, with scopes limited to what the client was granted."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    @override
    def validate_requested_scope(self) -> None:
        requested = set(scope_to_list(self.request.payload.scope) or [])
        if not requested <= set(SCOPES_SUPPORTED):
            raise InvalidScopeError(description="The requested scope is not supported.")
        if not requested <= self.request.client.registered.scopes:
            raise InvalidScopeError(description="The requested scope exceeds the client's grant.")


class S256CodeChallenge(CodeChallenge):
    """PKCE, required on every authorization request, with S256 only (plain is refused)."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    @override
    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)


def _check_token_request(request: StarletteOAuth2Request) -> None:
    """The token request's own form: RFC 6749 §5.2 invalid_request, before any grant looks at it."""
    if not request.payload.data.get("grant_type"):
        raise InvalidRequestError("grant_type is required.")
    if any(len(values) > 1 for values in request.payload.datalist.values()):
        # Not named: a parameter's name is the client's text, and an error description must be plain ASCII.
        raise InvalidRequestError("Each parameter may be sent once.")
    scheme = request.headers.get("authorization", "").partition(" ")[0].lower()
    if scheme == "basic" and "client_secret" in request.payload.data:
        raise InvalidRequestError("Authenticate the client one way: an Authorization header or client_secret.")


@dataclass(frozen=True)
class RedeemedCode:
    """An authorization code as it was issued, once redeemed."""

    person_id: Any
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    auth_time: Any
    amr: tuple[str, ...]
    via_tenant: str | None = None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class PersonAuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """The authorization-code grant for people signing in through a public client."""

    # Public clients redeem codes; a confidential client may authenticate here too, only to be told the
    # grant is not its own (unauthorized_client, RFC 6749 §5.2) rather than that it failed to authenticate.
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [PUBLIC_AUTH_METHOD, *AUTH_METHODS]

    @override
    def validate_requested_scope(self) -> None:
        requested = set(scope_to_list(self.request.payload.scope) or [])
        if not requested <= set(SCOPES_SUPPORTED):
            raise InvalidScopeError(description="The requested scope is not supported.")

    @override
    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        person: SignedInPerson = request.user
        # The token may hold what the app asked for (within its ceiling) and the person's roles allow.
        scope = list_to_scope([s for s in scope_to_list(request.scope) or [] if s in person.scopes])
        with self.server.session_factory() as db_session, db_session.begin():
            signin.save_code(
                db_session=db_session,
                code=code,
                client_id=request.client.get_client_id(),
                person=person,
                redirect_uri=request.payload.redirect_uri,
                scope=scope or "",
                code_challenge=request.payload.data["code_challenge"],
            )

    @override
    def query_authorization_code(self, code: str, client: OAuthClient) -> RedeemedCode | None:
        # Redeeming marks the code used in the same statement: a code works once, even under a race.
        with self.server.session_factory() as db_session, db_session.begin():
            row = signin.redeem_code(db_session=db_session, code=code, client_id=client.get_client_id())
            if row is None:
                return None
            return RedeemedCode(
                person_id=row.person_id,
                redirect_uri=row.redirect_uri,
                scope=row.scope,
                code_challenge=row.code_challenge,
                code_challenge_method=row.code_challenge_method,
                auth_time=row.auth_time,
                amr=tuple(row.amr),
                via_tenant=row.via_tenant,
            )

    @override
    def delete_authorization_code(self, authorization_code: RedeemedCode) -> None:
        return None  # already marked used when it was redeemed

    @override
    def authenticate_user(self, authorization_code: RedeemedCode) -> SignedInPerson | None:
        with self.server.session_factory() as db_session:
            return signin.person_for_token(db_session=db_session, code=authorization_code)


class GatewayAuthorizationServer(AuthorizationServer):
    """The token endpoint's server: looks clients up in the registry, issues JWTs, stores none."""

    def __init__(self, *, session_factory: sessionmaker[Session], token_generator: HarambeeTokenGenerator) -> None:
        super().__init__(scopes_supported=list(SCOPES_SUPPORTED))
        self.session_factory = session_factory
        self.register_token_generator("default", token_generator)
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(PersonAuthorizationCodeGrant, [S256CodeChallenge(required=True)])

    @override
    def create_token_response(self, request: Any = None) -> Response:
        # authlib takes the first of a repeated parameter and calls a missing grant_type unsupported;
        # RFC 6749 §5.2 makes both, and a client authenticated twice over, invalid_request.
        try:
            _check_token_request(request)
        except OAuth2Error as error:
            return self.handle_error_response(request, error)
        return super().create_token_response(request)

    @override
    def get_authorization_grant(self, request: OAuth2Request) -> Any:
        # A missing response_type is a malformed request (§4.1.2.1), not an unsupported response type;
        # the error goes back to the app only when its redirect URI is verified, as authlib's own do.
        if not request.payload.response_type:
            client = self.query_client(request.payload.client_id) if request.payload.client_id else None
            redirect_uri = request.payload.redirect_uri
            verified = client is not None and redirect_uri and client.check_redirect_uri(redirect_uri)
            raise InvalidRequestError("response_type is required.", redirect_uri=redirect_uri if verified else None)
        return super().get_authorization_grant(request)

    @override
    def query_client(self, client_id: str) -> ClientMixin:
        with self.session_factory() as db_session:
            registered = clients.get_registered_client(db_session=db_session, client_id=client_id)
        return OAuthClient(registered, session_factory=self.session_factory) if registered else UnknownClient()

    @override
    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Access tokens are self-contained JWTs verified by each service: nothing to store.
        return None

    @override
    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    @override
    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        content = json.dumps(body) if isinstance(body, dict) else to_unicode(body)
        return Response(content, status_code=status, headers=dict(headers))

    @override
    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None
