"""Who may call assessment's endpoints, as types."""

from typing import Annotated

from fastapi import Depends

from harambee_common.agreements import AgreementAuthenticator
from harambee_common.auth import Authenticator, TenantPrincipal

CasesRead = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={"cases:read"}, roles={"case_worker", "intake_officer"})),
]

# County staff read their own figures; a national coordinator reads them from the national tenant,
# only under an agreement in force that permits read_aggregates, and with small counts suppressed.
AggregatesRead = Annotated[
    TenantPrincipal,
    Depends(AgreementAuthenticator(scopes={"aggregates:read"}, roles={"programme_manager", "national_coordinator"},
                                   operation="read_aggregates", across_tenants=frozenset({"national_coordinator"}))),
]

# County staff who manage cases propose, accept and refuse transfers. Staff tokens carry `cases:read`
# today and the gateway's scope list has no `cases:write`, so the role is what limits this to managers
# and case workers; the agreement between the two counties is checked in transfers.py.
CaseTransfers = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={"cases:read"}, roles={"case_worker", "programme_manager"})),
]

# A data-subject access request is gathered by intake's officers with their own token.
SubjectExport = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={"cases:read"}, roles={"intake_officer"})),
]
