"""The admin API, `/admin/v1/...`: platform administrators manage the registry, one router per record."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute

from harambee_common.openapi_contract import responses_for
from harambee_common.problems import Conflict
from harambee_gateway.admin import agreements, clients, identity_providers, organisations, people, signing_keys, tenants
from harambee_gateway.auth import platform_admin

# Every route here is a platform administrator's; a route that records who made a change names them too.
router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(platform_admin)])
# Every change meets the registry as it stands: a name taken, a record in a state that forbids it (409).
_CONFLICTS = responses_for(Conflict)
for module in (tenants, identity_providers, organisations, clients, people, agreements, signing_keys):
    for route in module.router.routes:
        if isinstance(route, APIRoute) and route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            route.responses = {**_CONFLICTS, **route.responses}
    router.include_router(module.router)
