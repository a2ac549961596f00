"""Who may call the compliance API: the tenant's compliance officers, and for reading, national ones.

A compliance officer of the tenant in the path reads and reviews its log. A compliance officer of a
national tenant whose oversight covers that tenant (`OversightPolicy.allowed_tenants`) reads it too,
but does not review (sign-offs and closings stay with the county's own officers); each such read is
appended to the county's log before the response leaves, so a county sees who looked from outside.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from harambee_audit import service
from harambee_audit.oversight import OversightPolicy, acting_from
from harambee_common.auth import Authenticator, TenantPrincipal, bearer_token
from harambee_common.db import UnitOfWorkDep
from harambee_common.events import Event
from harambee_common.problems import Forbidden, InsufficientScope, NotFound

SCOPE = "audit:read"
ROLE = "compliance_officer"
OVERSIGHT_READ = "audit_log.read_by_oversight"


@dataclass(frozen=True)
class AuditPrincipal(TenantPrincipal):
    """A compliance officer reading a tenant's log; `overseen_from` is set when acting from a national tenant."""

    overseen_from: tuple[str, ...] = ()


class AuditAuthenticator:
    """A dependency: the tenant's compliance officer, or (when oversight is allowed) a national one covering it."""

    def __init__(self, *, oversight: bool) -> None:
        self._own = Authenticator(scopes={SCOPE}, roles={ROLE})
        self._oversight = oversight

    async def __call__(self, request: Request) -> AuditPrincipal:
        try:
            own = await self._own(request)
        except (NotFound, Forbidden):
            # The token was verified (and cached) before the tenant or the role was found wanting.
            principal = request.app.state.verifier.cached(bearer_token(request))
            policy: OversightPolicy = request.app.state.oversight
            tenant = request.path_params["tenant"]
            if principal is None or tenant not in policy.allowed_tenants(principal):
                raise
            if not self._oversight:
                raise Forbidden("Only the tenant's own compliance officers review its log.") from None
            if SCOPE not in principal.scopes:
                raise InsufficientScope(f"This operation needs the scope(s): {SCOPE}.") from None
            return AuditPrincipal(principal=principal, tenant=tenant, overseen_from=tuple(acting_from(principal)))
        return AuditPrincipal(principal=own.principal, tenant=own.tenant)


def _recorded(
    request: Request,
    principal: Annotated[AuditPrincipal, Depends(AuditAuthenticator(oversight=True))],
    uow: UnitOfWorkDep,
) -> Iterator[AuditPrincipal]:
    """Appends an oversight read to the tenant's log after the route ran, before the transaction commits."""
    yield principal
    if principal.overseen_from:
        service.append_event(
            uow=uow,
            event=Event(
                type=OVERSIGHT_READ,
                tenant=uow.tenant,
                topic=service.CHECKPOINT_TOPIC,
                source=service.SOURCE,
                subject="log",
                data={
                    "actor": principal.actor,
                    "client_id": principal.principal.client_id,
                    "purpose": "national_oversight",
                    "from_tenants": list(principal.overseen_from),
                    "route": request.scope["route"].path if request.scope.get("route") else request.url.path,
                    "path": request.url.path,
                    "query": str(request.url.query),
                },
            ),
            signer=request.app.state.signer,
            checkpoint_every=request.app.state.audit.checkpoint_every,
        )


# Reads: the tenant's officers, and national officers whose oversight covers the tenant (recorded).
AuditReader = Annotated[AuditPrincipal, Depends(_recorded, scope="function")]
# Reviews: the tenant's own compliance officers only.
ComplianceOfficer = Annotated[AuditPrincipal, Depends(AuditAuthenticator(oversight=False))]
