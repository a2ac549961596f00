"""Who may call interventions' endpoints, as types."""

from typing import Annotated

from fastapi import Depends

from harambee_common.auth import Authenticator, TenantPrincipal

CasesRead = Annotated[
    TenantPrincipal, Depends(Authenticator(scopes={"cases:read"}, roles={"case_worker"}))
]
