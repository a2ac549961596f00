"""Who may call assessment's endpoints, as types.

County staff read cases; assessors read only the cases assigned to them, panel members only the cases
on their meetings' agendas (both checked in access.py, row by row); compliance officers read every
case, withdrawn ones included, which no one else may. Partner systems act only under an agreement:
an agency answers the information requests addressed to it; a case summary needs an agreement that
grants `read_case_summary`. To an outside party (a caller whose only roles in the tenant are `partner` or
`intervention_provider`) every other route answers 404, as for an unknown case: assessment does not
even say that there is something it may not see.
"""

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from harambee_common.agreements import AgreementAuthenticator
from harambee_common.auth import Authenticator, EitherOf, TenantPrincipal, TokenVerifier, bearer_token
from harambee_common.permissions import Role, Scope
from harambee_common.problems import Forbidden, NotFound

# The operation an agreement lists to let an organisation receive information requests and answer them.
INFORMATION_REQUESTS = "information_requests"
# The operation an agreement lists to let a partner read the summary of the cases it is involved in.
READ_CASE_SUMMARY = "read_case_summary"

# The roles of parties outside the county programme: an agency's system, an intervention provider.
OUTSIDE_PARTIES = frozenset({Role.partner, Role.intervention_provider})


class StaffOnly(EitherOf):
    """Admits whom any of its authenticators admits; to an outside party it answers 404, not 403.

    A provider asking for an assessment, or a partner for a case, learns nothing: not even that the route
    holds something it may not read. A refused caller with any other role still gets 403.
    """

    hidden_from = OUTSIDE_PARTIES

    async def __call__(self, request: Request) -> TenantPrincipal:
        try:
            return await super().__call__(request)
        except Forbidden:
            verifier: TokenVerifier = request.app.state.verifier
            token = bearer_token(request)
            principal = verifier.cached(token) or await run_in_threadpool(verifier.verify, token)
            roles = principal.roles_in(request.path_params["tenant"])
            if roles and roles <= self.hidden_from:
                raise NotFound("Not found.") from None
            raise


# How the routers document their 404, which is also every staff route's answer to an outside party.
NOT_FOUND = {404: "No such resource among those you may read; a partner's or provider's system gets this (never "
                  "403) on every route not made for it, so nothing is revealed"}

# Staff who work cases in the county (an assessor's reads are narrowed to assigned cases in access.py).
CASE_STAFF = frozenset({Role.case_worker, Role.intake_officer, Role.programme_manager, Role.assessor})

CasesRead = Annotated[
    TenantPrincipal,
    Depends(StaffOnly(Authenticator(scopes={Scope.cases_read}, roles=set(CASE_STAFF)),
                      Authenticator(scopes={Scope.audit_read}, roles={Role.compliance_officer}))),
]

# Information requests, assessments and their contributions: case workers and assessors.
CasesWrite = Annotated[
    TenantPrincipal,
    Depends(StaffOnly(Authenticator(scopes={Scope.cases_write},
                                    roles={Role.case_worker, Role.programme_manager, Role.assessor}))),
]

# Assigning assessors and approving assessments: the county's case workers and programme managers.
CaseManagement = Annotated[
    TenantPrincipal,
    Depends(StaffOnly(Authenticator(scopes={Scope.cases_write}, roles={Role.case_worker, Role.programme_manager}))),
]

# The tenant's frameworks and settings are its programme manager's to define; staff read them.
ProgrammeRead = Annotated[
    TenantPrincipal,
    Depends(StaffOnly(Authenticator(scopes={Scope.cases_read}, roles=set(CASE_STAFF)),
                      Authenticator(scopes={Scope.panel_read}, roles={Role.panel_member}))),
]
ProgrammeWrite = Annotated[
    TenantPrincipal,
    Depends(StaffOnly(Authenticator(scopes={Scope.cases_write}, roles={Role.programme_manager}))),
]

# The history of the tenant's settings (four eyes can be turned off): its staff, and compliance officers.
SettingsHistoryRead = Annotated[
    TenantPrincipal,
    Depends(StaffOnly(Authenticator(scopes={Scope.cases_read}, roles=set(CASE_STAFF)),
                      Authenticator(scopes={Scope.audit_read}, roles={Role.compliance_officer}))),
]

# The panel: its members (each reads only the meetings they attend), and the staff who run it.
PanelRead = Annotated[
    TenantPrincipal,
    Depends(StaffOnly(Authenticator(scopes={Scope.panel_read}, roles={Role.panel_member}),
                      Authenticator(scopes={Scope.cases_read}, roles={Role.case_worker, Role.programme_manager}))),
]
PanelWrite = Annotated[
    TenantPrincipal,
    Depends(StaffOnly(Authenticator(scopes={Scope.panel_write}, roles={Role.panel_member}),
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
    Depends(StaffOnly(Authenticator(scopes={Scope.cases_read}, roles={Role.case_worker, Role.programme_manager}))),
]

# A data-subject access request is gathered by intake's officers with their own token.
SubjectExport = Annotated[
    TenantPrincipal,
    Depends(StaffOnly(Authenticator(scopes={Scope.cases_read}, roles={Role.intake_officer}))),
]
