"""Who may call interventions' endpoints, as types."""

from typing import Annotated

from fastapi import Depends

from harambee_common.auth import Authenticator, TenantPrincipal
from harambee_common.permissions import Role, Scope

CasesRead = Annotated[
    TenantPrincipal, Depends(Authenticator(scopes={Scope.cases_read}, roles={Role.case_worker}))
]

# A data-subject access request is gathered by intake's officers with their own token.
SubjectExport = Annotated[
    TenantPrincipal, Depends(Authenticator(scopes={Scope.cases_read}, roles={Role.intake_officer}))
]
