"""Who may call assessment's endpoints, as types."""

from typing import Annotated

from fastapi import Depends

from harambee_common.agreements import AgreementAuthenticator
from harambee_common.auth import Authenticator, TenantPrincipal
from harambee_common.permissions import Role, Scope

CasesRead = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.cases_read}, roles={Role.case_worker, Role.intake_officer})),
]

# County staff read their own figures; a national coordinator reads them from the national tenant,
# only under an agreement in force that permits read_aggregates, and with small counts suppressed.
AggregatesRead = Annotated[
    TenantPrincipal,
    Depends(AgreementAuthenticator(scopes={Scope.aggregates_read},
                                   roles={Role.programme_manager, Role.national_coordinator},
                                   operation="read_aggregates",
                                   across_tenants=frozenset({Role.national_coordinator}))),
]

# County staff who manage cases propose, accept and refuse transfers. Staff tokens carry `cases:read`
# today and the gateway's scope list has no `cases:write`, so the role is what limits this to managers
# and case workers; the agreement between the two counties is checked in transfers.py.
CaseTransfers = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.cases_read}, roles={Role.case_worker, Role.programme_manager})),
]

# A data-subject access request is gathered by intake's officers with their own token.
SubjectExport = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.cases_read}, roles={Role.intake_officer})),
]
