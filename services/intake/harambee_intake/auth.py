"""Who may call intake's endpoints, as types.

Partner systems act for an organisation outside the tenant: they pass only under a data-sharing
agreement in force that permits the operation (`submit_referrals`, `read_referral_status`); the
decision is published for the audit log either way. Programme staff act for the tenant itself.
"""

from typing import Annotated

from fastapi import Depends

from harambee_common.agreements import AgreementAuthenticator
from harambee_common.auth import Authenticator, EitherOf, TenantPrincipal
from harambee_common.permissions import Role, Scope

ReferralsWrite = Annotated[
    TenantPrincipal,
    Depends(AgreementAuthenticator(scopes={Scope.referrals_write}, roles={Role.partner, Role.intake_officer},
                                   operation="submit_referrals")),
]
ReferralsRead = Annotated[
    TenantPrincipal,
    Depends(AgreementAuthenticator(scopes={Scope.referrals_read},
                                   roles={Role.partner, Role.intake_officer, Role.case_worker},
                                   operation="read_referral_status")),
]
# Screening, the vault and the person's rights: the intake officer's work.
IntakeOfficer = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.referrals_write}, roles={Role.intake_officer})),
]
# Programme staff who read referral content (never identity).
STAFF_ROLES = frozenset({Role.intake_officer, Role.case_worker})
StaffRead = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.referrals_read}, roles=set(STAFF_ROLES))),
]
# Anyone with a role in the tenant: the coded lists a referral is made of are not secret.
AnyMember = Annotated[TenantPrincipal, Depends(Authenticator(scopes=set(), roles=None))]
# Partner systems following their own referrals' status (webhooks).
PartnerIntegration = Annotated[
    TenantPrincipal,
    Depends(AgreementAuthenticator(scopes={Scope.referrals_read}, roles={Role.partner},
                                   operation="read_referral_status")),
]


# Tracked rights requests and retention reports: officers, and compliance officers reviewing them.
RightsRead = Annotated[
    TenantPrincipal,
    Depends(EitherOf(Authenticator(scopes={Scope.referrals_read}, roles={Role.intake_officer}),
                     Authenticator(scopes={Scope.audit_read}, roles={Role.compliance_officer}))),
]

# The history of the tenant's settings and coded lists: programme staff, and compliance officers reviewing it.
SettingsHistoryRead = Annotated[
    TenantPrincipal,
    Depends(EitherOf(Authenticator(scopes={Scope.referrals_read}, roles=set(STAFF_ROLES)),
                     Authenticator(scopes={Scope.audit_read}, roles={Role.compliance_officer}))),
]
