"""Who may call monitoring's endpoints, as types."""

from typing import Annotated

from fastapi import Depends

from harambee_common.auth import Authenticator, TenantPrincipal
from harambee_common.permissions import Role, Scope

# The indicators are read as every aggregate is (harambee_common.agreements.AggregatesRead): a county's
# programme manager its exact figures; a national coordinator in the national tenant (summed over the counties
# that share them) or in a county's, only under that county's agreement in force, and then suppressed or noisy.

# Population figures and the disparity threshold are the tenant's own to set: its manager, or in the national
# tenant its coordinator. The gateway has no aggregates-write scope; the role is what limits this.
FiguresWrite = Annotated[
    TenantPrincipal,
    Depends(Authenticator(scopes={Scope.aggregates_read}, roles={Role.programme_manager, Role.national_coordinator})),
]
