"""`GET /v1/tenants/{tenant}/me`: what the caller's token allows here, without touching data.

Partner developers use it to check their integration; the benchmarks use it as the trivial
authenticated request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel

from harambee_common.auth import Authenticator, TenantPrincipal
from harambee_common.tenancy import tenant_router

router = tenant_router(tags=["identity"])

AnyMember = Annotated[TenantPrincipal, Depends(Authenticator(scopes=set(), roles=None))]


class Me(BaseModel):
    """The caller as this service sees it."""

    subject: str
    client_id: str
    tenant: str
    roles: list[str]
    scopes: list[str]
    organisation: str | None


@router.get("/me", response_model=Me)
def me(principal: AnyMember) -> Me:
    """The caller's identity, roles and scopes in this tenant."""
    return Me(
        subject=principal.actor,
        client_id=principal.principal.client_id,
        tenant=principal.tenant,
        roles=sorted(principal.roles),
        scopes=sorted(principal.principal.scopes_in(principal.home_tenant or principal.tenant)),
        organisation=principal.organisation,
    )
