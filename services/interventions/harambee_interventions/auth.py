"""Who may call interventions' endpoints, as types."""

from typing import Annotated

from fastapi import Depends

from harambee_common.auth import Authenticator, TenantPrincipal

CasesRead = Annotated[
    TenantPrincipal, Depends(Authenticator(scopes={"cases:read"}, roles={"case_worker"}))
]

# A data-subject access request is gathered by intake's officers with their own token.
SubjectExport = Annotated[
    TenantPrincipal, Depends(Authenticator(scopes={"cases:read"}, roles={"intake_officer"}))
]
