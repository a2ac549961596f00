"""Who may call interventions' endpoints, as types.

County staff read cases, plans and flags with `cases:read`; changing them (plans, reviews, closure,
follow-ups, the catalogue, providers, settings, closing flags) needs `plans:write` as well. A provider's
system (`partner`) or practitioner (`intervention_provider`) acts for an organisation outside the tenant:
it reaches its own tasks only, under a data-sharing agreement in force that permits the operation
(`read_intervention_tasks`, `record_intervention_sessions`); the decision is published either way.
"""

from typing import Annotated

from fastapi import Depends

from harambee_common.agreements import AgreementAuthenticator
from harambee_common.auth import Authenticator, EitherOf, TenantPrincipal
from harambee_common.permissions import Role, Scope

STAFF = {Role.case_worker, Role.programme_manager}
PROVIDERS = {Role.partner, Role.intervention_provider}
# The operations a provider's agreement lists.
READ_TASKS, RECORD_SESSIONS = "read_intervention_tasks", "record_intervention_sessions"

CasesRead = Annotated[
    TenantPrincipal, Depends(Authenticator(scopes={Scope.cases_read}, roles={Role.case_worker}))
]
StaffRead = Annotated[TenantPrincipal, Depends(Authenticator(scopes={Scope.cases_read}, roles=STAFF))]
PlansWrite = Annotated[
    TenantPrincipal, Depends(Authenticator(scopes={Scope.cases_read, Scope.plans_write}, roles=STAFF))
]
TasksRead = Annotated[
    TenantPrincipal,
    Depends(AgreementAuthenticator(scopes={Scope.tasks_read}, roles=PROVIDERS, operation=READ_TASKS)),
]
TasksWrite = Annotated[
    TenantPrincipal,
    Depends(AgreementAuthenticator(scopes={Scope.tasks_write}, roles=PROVIDERS, operation=RECORD_SESSIONS)),
]

# The history of the tenant's settings and catalogue: county staff, and compliance officers reviewing it.
SettingsHistoryRead = Annotated[
    TenantPrincipal,
    Depends(EitherOf(Authenticator(scopes={Scope.cases_read}, roles=STAFF),
                     Authenticator(scopes={Scope.audit_read}, roles={Role.compliance_officer}))),
]

# A data-subject access request is gathered by intake's officers with their own token.
SubjectExport = Annotated[
    TenantPrincipal, Depends(Authenticator(scopes={Scope.cases_read}, roles={Role.intake_officer}))
]
