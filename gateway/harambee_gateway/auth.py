"""Who may call the gateway's own APIs: tokens it issued itself, checked without a network hop."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from joserfc.jwk import KeySet

from harambee_common.auth import Principal, TokenVerifier, bearer_token
from harambee_common.openapi_contract import raises
from harambee_common.permissions import Role, Scope
from harambee_common.problems import Forbidden, InsufficientScope, Unauthenticated
from harambee_gateway.events import PLATFORM
from harambee_gateway.signing import KeyRing


class OwnKeys:
    """The gateway's own published keys, in the shape TokenVerifier asks a KeyCache for."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def key_set(self, kid: str | None) -> KeySet:  # noqa: ARG002 (KeyCache's interface; every kid is at hand)
        """The published keys, whatever the kid (no network: they are this process's own, all at hand)."""
        return self._ring.public_key_set()


def local_verifier(*, ring: KeyRing, issuer: str, audience: str) -> TokenVerifier:
    """A verifier of the gateway's own tokens against its own keys."""
    return TokenVerifier(keys=OwnKeys(ring), issuer=issuer, audience=audience)  # type: ignore[arg-type]


def _principal(request: Request) -> Principal:
    return request.app.state.verifier.verify(bearer_token(request))


@raises(Unauthenticated, InsufficientScope, Forbidden)
def platform_admin(request: Request) -> Principal:
    """The caller, if a platform administrator with the admin scope."""
    principal = _principal(request)
    if Scope.registry_admin not in principal.scopes:
        raise InsufficientScope(f"This operation needs the scope {Scope.registry_admin}.")
    if Role.platform_admin not in principal.roles_in(PLATFORM):
        raise Forbidden("Only platform administrators may change the registry.")
    return principal


@raises(Unauthenticated, InsufficientScope)
def registry_reader(request: Request) -> Principal:
    """The caller, if it may read the registry (a service's client, or an administrator)."""
    principal = _principal(request)
    if not {Scope.registry_read, Scope.registry_admin} & principal.scopes:
        raise InsufficientScope(f"This operation needs the scope {Scope.registry_read}.")
    return principal


PlatformAdmin = Annotated[Principal, Depends(platform_admin)]
