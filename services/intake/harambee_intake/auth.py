"""Who may call intake's endpoints, as types."""

from typing import Annotated

from fastapi import Depends

from harambee_common.auth import Authenticator, TenantPrincipal

ReferralsWrite = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={"referrals:write"}, roles={"partner", "intake_officer"})),
]
ReferralsRead = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={"referrals:read"},
                          roles={"partner", "intake_officer", "case_worker"})),
]
