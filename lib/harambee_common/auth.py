"""Access-token verification (RFC 9068) and the principal an endpoint acts for."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from starlette.concurrency import run_in_threadpool

from harambee_common.permissions import Role, Scope
from harambee_common.problems import Forbidden, InsufficientScope, NotFound, Unauthenticated

log = logging.getLogger(__name__)

ALGORITHMS = ["ES256"]  # an allow-list: never "none", never an HMAC keyed with a public key
REFETCH_INTERVAL = 10.0
VERIFIED_CACHE_SIZE = 10_000  # seconds between JWKS refetches triggered by unknown key ids


class KeyCache:
    """The gateway's JWKS, fetched once and refetched when a token names an unknown kid."""

    def __init__(self, jwks_url: str) -> None:
        self._url = jwks_url
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def key_set(self, kid: str | None) -> KeySet:
        """The key set, refreshed if kid is not in it (at most once per REFETCH_INTERVAL)."""
        keys = self._keys
        if keys is not None and (kid is None or _has_kid(keys, kid)):
            return keys
        with self._lock:
            fresh_enough = time.monotonic() - self._fetched_at < REFETCH_INTERVAL
            if self._keys is None or not fresh_enough:
                self._keys = self._fetch()
                self._fetched_at = time.monotonic()
            return self._keys

    def _fetch(self) -> KeySet:
        try:
            response = httpx.get(self._url, timeout=5.0)
            response.raise_for_status()
            return KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            log.warning("JWKS fetch from %s failed: %s", self._url, type(exc).__name__)
            if self._keys is not None:
                return self._keys
            raise Unauthenticated("The token issuer's keys are unavailable.") from exc


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a machine client or a person, with roles (and scopes) per tenant."""

    subject: str
    client_id: str
    scopes: frozenset[str]
    tenants: dict[str, frozenset[str]]
    organisation: str | None
    # The token's `tenant_scopes`: a scope held in one tenant is not held in another. None for a
    # token issued before the gateway wrote them (at most one token lifetime after it started to).
    tenant_scopes: dict[str, frozenset[str]] | None = None
    # The kind of registry organisation it acts for (`org_kind`: cso, agency, provider, programme).
    organisation_kind: str | None = None

    def roles_in(self, tenant: str) -> frozenset[str]:
        """The principal's roles in a tenant (empty if it has none there)."""
        return self.tenants.get(tenant, frozenset())

    def scopes_in(self, tenant: str) -> frozenset[str]:
        """The principal's scopes in a tenant (every scope of a token that does not say per tenant)."""
        if self.tenant_scopes is None:
            return self.scopes
        return self.tenant_scopes.get(tenant, frozenset()) & self.scopes


@dataclass(frozen=True)
class TenantPrincipal:
    """A principal acting in one tenant, as checked for the current request.

    home_tenant is set when the principal acts from another tenant (a national coordinator reading a
    county's aggregates): then only an agreement between the two tenants lets the request through.
    """

    principal: Principal
    tenant: str
    home_tenant: str | None = None
    agreement: Any = None  # the agreements.Agreement the request was allowed under, if any

    @property
    def roles(self) -> frozenset[str]:
        """The principal's roles here, or in its home tenant when it acts from there."""
        return self.principal.roles_in(self.home_tenant or self.tenant)

    @property
    def organisation(self) -> str | None:
        """The organisation the principal acts for, if any."""
        return self.principal.organisation

    @property
    def actor(self) -> str:
        """A reference to the caller for audit records."""
        return self.principal.subject


class TokenVerifier:
    """Verifies signature, typ, issuer, audience and lifetime of an access token."""

    def __init__(self, *, keys: KeyCache, issuer: str, audience: str) -> None:
        self._keys = keys
        # A token verified once stays valid until it expires: skip the signature check next time.
        self._verified: dict[str, tuple[float, Principal]] = {}
        self._claims = JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            client_id={"essential": True},
        )

    def cached(self, token: str) -> Principal | None:
        """The principal of a token verified before and not yet expired, without any I/O."""
        cached = self._verified.get(token)
        if cached is not None and time.time() < cached[0]:
            return cached[1]
        return None

    def verify(self, token: str) -> Principal:
        """The principal the token speaks for; raises Unauthenticated otherwise (may fetch the JWKS)."""
        cached = self.cached(token)
        if cached is not None:
            return cached
        principal, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()  # crude but bounded; tokens are short-lived anyway
        self._verified[token] = (expires, principal)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError) as exc:
            raise Unauthenticated("The access token is malformed.") from exc
        typ = header.get("typ")
        # A header is attacker-controlled JSON: a typ that is not a string is refused, not a crash.
        if not isinstance(typ, str) or typ.lower() not in ("at+jwt", "application/at+jwt"):
            raise Unauthenticated("The token is not an access token (typ must be at+jwt).")
        if header.get("alg") not in ALGORITHMS:
            raise Unauthenticated("The token's signing algorithm is not accepted.")
        keys = self._keys.key_set(header.get("kid"))
        try:
            decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
            self._claims.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise Unauthenticated("The access token is invalid or expired.") from exc
        return _principal(decoded.claims), float(decoded.claims["exp"])


def _principal(claims: dict[str, Any]) -> Principal:
    tenants = claims.get("tenants") or {}
    if not isinstance(tenants, dict):
        raise Unauthenticated("The token's tenant claim is malformed.")
    return Principal(
        subject=str(claims["sub"]),
        client_id=str(claims["client_id"]),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        tenants={str(t): frozenset(map(str, roles or ())) for t, roles in tenants.items()},
        organisation=claims.get("org"),
        tenant_scopes=_tenant_scopes(claims),
        organisation_kind=claims.get("org_kind"),
    )


def _tenant_scopes(claims: dict[str, Any]) -> dict[str, frozenset[str]] | None:
    """The `tenant_scopes` claim (tenant slug to a list of scopes), None when the token has none."""
    if "tenant_scopes" not in claims:
        return None
    claim = claims["tenant_scopes"]
    if not isinstance(claim, dict) or not all(isinstance(scopes, list) for scopes in claim.values()):
        raise Unauthenticated("The token's tenant scope claim is malformed.")
    return {str(tenant): frozenset(map(str, scopes)) for tenant, scopes in claim.items()}


def bearer_token(request: Request) -> str:
    """The bearer token of the request; raises Unauthenticated when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("A bearer access token is required.")
    return token.strip()


class Authenticator:
    """A dependency: the caller must hold these scopes and one of these roles in the path's tenant."""

    # What it answers instead of the principal (the OpenAPI document lists them for every route it guards).
    problems = (Unauthenticated, InsufficientScope, Forbidden, NotFound)
    # Roles that may act from another tenant; only agreements.AgreementAuthenticator, which then
    # requires an agreement between the two tenants, sets any.
    across_tenants: frozenset[str] = frozenset()

    def __init__(self, *, scopes: set[Scope], roles: set[Role] | None) -> None:
        """roles=None admits any role the principal holds in the tenant."""
        self.scopes = frozenset(scopes)
        self.roles = None if roles is None else frozenset(roles)

    async def __call__(self, request: Request) -> TenantPrincipal:
        token = bearer_token(request)
        verifier: TokenVerifier = request.app.state.verifier
        # A known token is checked on the event loop; a new one may need the JWKS, so off it.
        principal = verifier.cached(token) or await run_in_threadpool(verifier.verify, token)
        tenant = request.path_params.get("tenant")
        if tenant is None:
            raise RuntimeError("Authenticator guards tenant routes only")
        acting = TenantPrincipal(principal=principal, tenant=tenant, home_tenant=self._home_tenant(principal, tenant))
        # No role in the tenant: answer as if it did not exist, so tenants cannot be probed.
        if not acting.roles:
            raise NotFound("No such tenant.")
        # The scopes held where the principal acts from: one held only in another tenant does not count.
        held = principal.scopes_in(acting.home_tenant or tenant)
        if not self.scopes <= held:
            missing = " ".join(sorted(self.scopes - held))
            raise InsufficientScope(f"This operation needs the scope(s): {missing}.")
        if self.roles is not None and not self.roles & acting.roles:
            raise Forbidden("Your role in this tenant does not permit this operation.")
        return acting

    def _home_tenant(self, principal: Principal, tenant: str) -> str | None:
        """Another tenant the principal may act from here (subject to an agreement), if it has no role here."""
        if principal.roles_in(tenant) or not self.across_tenants:
            return None
        homes = sorted(t for t, roles in principal.tenants.items() if roles & self.across_tenants)
        return homes[0] if homes else None


class EitherOf:
    """A dependency admitting a caller whom any one of several authenticators admits."""

    def __init__(self, *options: Authenticator) -> None:
        self.options = options
        # What any of them answers instead of a principal (for the OpenAPI document).
        self.problems = tuple(dict.fromkeys(p for option in options for p in option.problems))

    async def __call__(self, request: Request) -> TenantPrincipal:
        refusal: Forbidden | None = None
        for option in self.options:
            try:
                return await option(request)
            except Forbidden as exc:  # a missing scope or role: another option may still admit
                refusal = refusal or exc
        assert refusal is not None
        raise refusal
