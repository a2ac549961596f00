"""Who may call the gateway's own APIs: tokens it issued itself, checked without a network hop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harambee_common.auth import Principal, TokenVerifier, bearer_token
from harambee_common.problems import Conflict, Forbidden, InsufficientScope
from harambee_gateway.registry_events import PLATFORM
from harambee_gateway.service import ADMIN_SCOPE, PLATFORM_ADMIN, READ_SCOPE
from harambee_gateway.signing import KeyRing


class OwnKeys:
    """The gateway's own published keys, in the shape TokenVerifier asks a KeyCache for."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def key_set(self, kid: str | None) -> KeySet:
        """The published keys (no network: they are this process's own)."""
        return self._ring.public_key_set()


def local_verifier(*, ring: KeyRing, issuer: str, audience: str) -> TokenVerifier:
    """A verifier of the gateway's own tokens against its own keys."""
    return TokenVerifier(keys=OwnKeys(ring), issuer=issuer, audience=audience)  # type: ignore[arg-type]


def _principal(request: Request) -> Principal:
    return request.app.state.verifier.verify(bearer_token(request))


def _platform_admin(request: Request) -> Principal:
    principal = _principal(request)
    if ADMIN_SCOPE not in principal.scopes:
        raise InsufficientScope(f"This operation needs the scope {ADMIN_SCOPE}.")
    if PLATFORM_ADMIN not in principal.roles_in(PLATFORM):
        raise Forbidden("Only platform administrators may change the registry.")
    return principal


def _registry_reader(request: Request) -> Principal:
    principal = _principal(request)
    if not {READ_SCOPE, ADMIN_SCOPE} & principal.scopes:
        raise InsufficientScope(f"This operation needs the scope {READ_SCOPE}.")
    return principal


def _registry_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed after the endpoint, rolled back on any error."""
    try:
        with request.app.state.sessions() as db_session, db_session.begin():
            yield db_session
    except IntegrityError as exc:
        # Checked first in the service; this catches two requests racing for the same name.
        raise Conflict("The change conflicts with a record that exists already.") from exc


PlatformAdmin = Annotated[Principal, Depends(_platform_admin)]
RegistryReader = Annotated[Principal, Depends(_registry_reader)]
# scope="function": the commit happens before the response, so a failed commit is not a 2xx.
RegistrySession = Annotated[Session, Depends(_registry_session, scope="function")]
