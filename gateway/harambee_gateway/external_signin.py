"""Signing a person in through their tenant's external OpenID Connect provider.

The gateway is the provider's client (authlib): it sends the person there with the authorization
code flow, PKCE (S256), a state and a nonce; on their return it redeems the code, validates the ID
token (joserfc: signature against the provider's JWKS, iss, aud, azp, exp, iat, nonce), finds the
Harambee person an administrator linked to that subject, and resumes the gateway's own
authorization request with that person holding their roles in that tenant only.

What is kept between leaving and returning is one row, found by a hash of the state, used once,
for ten minutes, and bound to the browser that left by a cookie (so a sign-in link cannot be
planted in someone else's browser). Nobody is ever created from a provider's say-so.

Three steps, so that no database connection waits on the provider: `begin` and `claim` and
`person_for` run in the caller's transaction; `verify_at_provider` talks to the provider alone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy.orm import Session

from harambee_common.auth import KeyCache
from harambee_common.permissions import SECOND_FACTOR_ROLES
from harambee_common.problems import Problem
from harambee_gateway import identity_providers, repository, signin
from harambee_gateway.models import ExternalSignIn
from harambee_gateway.secret_box import SealedSecretUnreadable, SecretBox
from harambee_gateway.signin import SignedInPerson

with warnings.catch_warnings():
    # authlib's httpx integration would rather have the httpx2 fork; plain httpx, which we use, works.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

log = logging.getLogger(__name__)
# What a directory's `amr` must include for a person holding a role in SECOND_FACTOR_ROLES.
MULTI_FACTOR_AMR = frozenset({"mfa", "otp", "hwk", "sc", "swk"})

SIGN_IN_TTL = timedelta(minutes=10)
HTTP_TIMEOUT_SECONDS = 10.0
CLOCK_LEEWAY_SECONDS = 60
# Asymmetric algorithms only: never "none", never an HMAC (which a public key could forge).
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
BROWSER_COOKIE = "harambee_directory_sign_in"
_BROWSER_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
# RFC 8176 authentication method references a provider may report and the token may carry on.
KNOWN_AMR = frozenset(
    {
        *("face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin"),
        *("pwd", "rba", "retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia"),
    }
)
MAX_KEY_CACHES = 256


class ExternalSignInRefused(Exception):
    """The sign-in through the provider is refused; the message is safe to show the person."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Departure:
    """Where to send the browser, and the cookie that binds the sign-in to it."""

    url: str
    browser_token: str


@dataclass(frozen=True)
class PendingSignIn:
    """A returned sign-in, claimed: the provider as configured now and what the departure kept."""

    tenant: str
    issuer: str
    client_id: str
    client_secret: str
    token_endpoint_auth_method: str
    token_endpoint: str
    jwks_uri: str
    subject_claim: str
    require_verified_email: bool
    iss_required: bool
    nonce: str
    code_verifier: str
    authorization_request: dict[str, str]


class ProviderKeys:
    """One JWKS cache per provider (refetched on an unknown kid, at most every 10 s), bounded."""

    def __init__(self) -> None:
        self._caches: dict[str, KeyCache] = {}
        self._lock = threading.Lock()

    def for_uri(self, jwks_uri: str) -> KeyCache:
        """The cache of this JWKS URI."""
        with self._lock:
            cache = self._caches.get(jwks_uri)
            if cache is None:
                if len(self._caches) >= MAX_KEY_CACHES:
                    self._caches.clear()
                cache = self._caches[jwks_uri] = KeyCache(jwks_uri)
            return cache


def browser_token(cookie: str | None) -> str:
    """The browser's binding token: the one it holds already, or a fresh one."""
    if cookie and _BROWSER_TOKEN.match(cookie):
        return cookie
    return secrets.token_urlsafe(32)


def begin(
    *,
    db_session: Session,
    tenant: str,
    authorization_request: dict[str, str],
    browser: str,
    redirect_uri: str,
) -> Departure | None:
    """Records a departure to the tenant's provider; None when the tenant trusts none."""
    provider = repository.get_identity_provider(db_session=db_session, tenant=tenant)
    if provider is None:
        return None
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    repository.delete_finished_external_sign_ins(db_session=db_session)
    repository.add(
        db_session=db_session,
        row=ExternalSignIn(
            state_hash=_digest(state),
            browser_hash=_digest(browser),
            tenant=tenant,
            nonce=nonce,
            code_verifier=verifier,
            authorization_request=authorization_request,
            expires_at=datetime.now(UTC) + SIGN_IN_TTL,
        ),
    )
    client = OAuth2Client(
        client_id=provider.client_id,
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    with client:
        url, _ = client.create_authorization_url(
            provider.authorization_endpoint, state=state, code_verifier=verifier, nonce=nonce
        )
    return Departure(url=url, browser_token=browser)


def claim(*, db_session: Session, box: SecretBox, state: str, browser: str | None) -> PendingSignIn:
    """Takes the departure this state belongs to (once), checked to be this browser's."""
    row = repository.consume_external_sign_in(db_session=db_session, state_hash=_digest(state))
    if row is None:
        raise ExternalSignInRefused(
            "This sign-in has expired or was completed already. Start again from the application.", status=400
        )
    if not browser or not hmac.compare_digest(row.browser_hash, _digest(browser)):
        raise ExternalSignInRefused(
            "This sign-in was started in another browser. Start again from the application.", status=400
        )
    provider = repository.get_identity_provider(db_session=db_session, tenant=row.tenant)
    if provider is None:
        raise ExternalSignInRefused("Your programme no longer signs in through its directory.", status=400)
    try:
        secret = box.open(provider.encrypted_client_secret, bound_to=provider.tenant)
    except SealedSecretUnreadable:
        log.warning("the client secret of tenant %s's identity provider cannot be opened", provider.tenant)
        raise ExternalSignInRefused(
            "Your programme's directory is not set up correctly. Ask your administrator.", status=503
        ) from None
    return PendingSignIn(
        tenant=provider.tenant,
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=secret,
        token_endpoint_auth_method=provider.token_endpoint_auth_method,
        token_endpoint=provider.token_endpoint,
        jwks_uri=provider.jwks_uri,
        subject_claim=provider.subject_claim,
        require_verified_email=provider.require_verified_email,
        iss_required=provider.authorization_response_iss_parameter_supported,
        nonce=row.nonce,
        code_verifier=row.code_verifier,
        authorization_request=dict(row.authorization_request),
    )


def verify_at_provider(
    *, pending: PendingSignIn, code: str, redirect_uri: str, keys: ProviderKeys
) -> dict[str, Any]:
    """Redeems the code at the provider and returns the ID token's claims, once validated."""
    client = OAuth2Client(
        client_id=pending.client_id,
        client_secret=pending.client_secret,
        token_endpoint_auth_method=pending.token_endpoint_auth_method,
        redirect_uri=redirect_uri,
        timeout=HTTP_TIMEOUT_SECONDS,
        follow_redirects=False,
    )
    try:
        with client:
            token = client.fetch_token(
                pending.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
            )
    except Exception as exc:  # OAuthError, any transport error of authlib's HTTP client, a malformed answer
        # The error's description comes from the provider: its type is enough for the log.
        log.warning("tenant %s: the provider's token endpoint failed: %s", pending.tenant, type(exc).__name__)
        raise ExternalSignInRefused("Your programme's directory did not complete the sign-in.") from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        log.warning("tenant %s: the provider's token response holds no ID token", pending.tenant)
        raise ExternalSignInRefused("Your programme's directory did not complete the sign-in.")
    return validate_id_token(pending=pending, id_token=id_token, keys=keys)


def validate_id_token(*, pending: PendingSignIn, id_token: str, keys: ProviderKeys) -> dict[str, Any]:
    """The ID token's claims if it is signed by the provider and meant for this sign-in (OIDC Core §3.1.3.7)."""
    refused = ExternalSignInRefused("Your programme's directory sent a sign-in that could not be verified.")
    try:
        header = jws.extract_compact(id_token.encode()).protected
    except (JoseError, ValueError) as exc:
        log.warning("tenant %s: the ID token is malformed", pending.tenant)
        raise refused from exc
    if header.get("alg") not in ID_TOKEN_ALGORITHMS:
        log.warning("tenant %s: the ID token's algorithm is not accepted", pending.tenant)
        raise refused
    registry = JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY_SECONDS,
        iss={"essential": True, "value": pending.issuer},
        aud={"essential": True, "value": pending.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": pending.nonce},
    )
    try:
        key_set = keys.for_uri(pending.jwks_uri).key_set(header.get("kid"))
        claims = jwt.decode(id_token, key_set, algorithms=ID_TOKEN_ALGORITHMS).claims
        registry.validate(claims)
    except Problem as exc:  # the provider's JWKS could not be fetched
        raise ExternalSignInRefused("Your programme's directory cannot be reached just now.", status=503) from exc
    except (JoseError, ValueError) as exc:
        # joserfc's messages name the failing claim, never its value.
        log.warning("tenant %s: the ID token was refused: %s", pending.tenant, exc)
        raise refused from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != pending.client_id:
        log.warning("tenant %s: the ID token has several audiences and another authorized party", pending.tenant)
        raise refused
    return claims


def person_for(*, db_session: Session, pending: PendingSignIn, claims: dict[str, Any]) -> SignedInPerson:
    """The linked person, holding their roles in the pending sign-in's tenant; refused when unlinked."""
    value = claims.get(pending.subject_claim)
    if not isinstance(value, str) or not value.strip() or len(value) > 320:
        log.warning("tenant %s: the ID token lacks the subject claim %s", pending.tenant, pending.subject_claim)
        raise ExternalSignInRefused("Your programme's directory did not say who you are.", status=403)
    if pending.subject_claim == "email" and pending.require_verified_email and claims.get("email_verified") is not True:
        raise ExternalSignInRefused("Your programme's directory has not verified your email address.", status=403)
    subject = identity_providers.normalised_subject(claim=pending.subject_claim, value=value)
    link = repository.find_external_identity(
        db_session=db_session,
        tenant=pending.tenant,
        issuer=pending.issuer,
        claim=pending.subject_claim,
        subject=subject,
    )
    if link is None:
        log.info("tenant %s: sign-in by an external subject that is linked to nobody", pending.tenant)
        raise ExternalSignInRefused(
            "Your directory account is not linked to a Harambee account in this programme, so you cannot "
            "sign in here. Ask your programme's administrator to link it.",
            status=403,
        )
    person = repository.get_person(db_session=db_session, person_id=link.person_id)
    if person is None or person.disabled_at is not None:
        raise ExternalSignInRefused("Your Harambee account is disabled.", status=403)
    view = signin.signed_in(
        db_session=db_session,
        person=person,
        auth_time=_auth_time(claims),
        amr=_amr(claims),
        via_tenant=pending.tenant,
    )
    if not view.tenants:
        raise ExternalSignInRefused("You hold no role in this programme yet.", status=403)
    # A role that can re-identify people needs a second factor here as at the gateway's own sign-in: the
    # directory must say it checked more than one (RFC 8176 `mfa`, or a one-time code or hardware key).
    held = {role for roles in view.tenants.values() for role in roles}
    if held & SECOND_FACTOR_ROLES and not set(view.amr) & MULTI_FACTOR_AMR:
        raise ExternalSignInRefused("Your role needs a second factor, and your programme's directory did not "
                                    "report one. Sign in there with your second factor.", status=403)
    return view


def _auth_time(claims: dict[str, Any]) -> int:
    """When the provider authenticated the person, if it says so and it is not in the future."""
    now = int(datetime.now(UTC).timestamp())
    stated = claims.get("auth_time")
    if isinstance(stated, int) and not isinstance(stated, bool) and stated <= now + CLOCK_LEEWAY_SECONDS:
        return min(stated, now)
    return now


def _amr(claims: dict[str, Any]) -> tuple[str, ...]:
    """The provider's authentication methods that RFC 8176 knows, in its order, at most ten."""
    stated = claims.get("amr")
    if not isinstance(stated, list):
        return ()
    return tuple(dict.fromkeys(m for m in stated[:10] if isinstance(m, str) and m in KNOWN_AMR))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
