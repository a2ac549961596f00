"""Who may call assessment's endpoints, as types.

County staff read cases; assessors read only the cases assigned to them, panel members only the cases
on their meetings' agendas (both checked in access.py, row by row); compliance officers read every
case, withdrawn ones included, which no one else may. Partner systems act only under an agreement:
an agency answers the information requests addressed to it; a case summary needs an agreement that
grants `read_case_summary`.
"""

from typing import Annotated

from fastapi import Depends

from harambee_common.agreements import AgreementAuthenticator
from harambee_common.auth import Authenticator, EitherOf, TenantPrincipal
from harambee_common.permissions import Role, Scope

# The operation an agreement lists to let an organisation receive information requests and answer them.
INFORMATION_REQUESTS = "information_requests"
# The operation an agreement lists to let a partner read the summary of the cases it is involved in.
READ_CASE_SUMMARY = "read_case_summary"

# Staff who work cases in the county (an assessor's reads are narrowed to assigned cases in access.py).
CASE_STAFF = frozenset({Role.case_worker, Role.intake_officer, Role.programme_manager, Role.assessor})

CasesRead = Annotated[
    TenantPrincipal,
    Depends(EitherOf(Authenticator(scopes={Scope.cases_read}, roles=set(CASE_STAFF)),
                     Authenticator(scopes={Scope.audit_read}, roles={Role.compliance_officer}))),
]

# Information requests, assessments and their contributions: case workers and assessors.
CasesWrite = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.cases_write}, roles={Role.case_worker, Role.programme_manager, Role.assessor})),
]

# Assigning assessors and approving assessments: the county's case workers and programme managers.
CaseManagement = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.cases_write}, roles={Role.case_worker, Role.programme_manager})),
]

# The tenant's frameworks and settings are its programme manager's to define; staff read them.
ProgrammeRead = Annotated[
    TenantPrincipal,
    Depends(EitherOf(Authenticator(scopes={Scope.cases_read}, roles=set(CASE_STAFF)),
                     Authenticator(scopes={Scope.panel_read}, roles={Role.panel_member}))),
]
ProgrammeWrite = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.cases_write}, roles={Role.programme_manager})),
]

# The panel: its members (each reads only the meetings they attend), and the staff who run it.
PanelRead = Annotated[
    TenantPrincipal,
    Depends(EitherOf(Authenticator(scopes={Scope.panel_read}, roles={Role.panel_member}),
                     Authenticator(scopes={Scope.cases_read}, roles={Role.case_worker, Role.programme_manager}))),
]
PanelWrite = Annotated[
    TenantPrincipal,
    Depends(EitherOf(Authenticator(scopes={Scope.panel_write}, roles={Role.panel_member}),
                     Authenticator(scopes={Scope.cases_write}, roles={Role.case_worker, Role.programme_manager}))),
]

# A partner agency's system: the requests addressed to its organisation, under an agreement in force.
InformationRequestsInbox = Annotated[
    TenantPrincipal,
    Depends(AgreementAuthenticator(scopes={Scope.information_requests_answer}, roles={Role.partner},
                                   operation=INFORMATION_REQUESTS)),
]

# A partner's view of a case it is involved in, only where an agreement grants a case summary.
CaseSummaryRead = Annotated[
    TenantPrincipal,
    Depends(AgreementAuthenticator(scopes={Scope.cases_read}, roles={Role.partner}, operation=READ_CASE_SUMMARY)),
]

# County staff who manage cases propose, accept and refuse transfers. The role is what limits this to
# managers and case workers; the agreement between the two counties is checked in transfers.py.
CaseTransfers = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.cases_read}, roles={Role.case_worker, Role.programme_manager})),
]

# A data-subject access request is gathered by intake's officers with their own token.
SubjectExport = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.cases_read}, roles={Role.intake_officer})),
]
