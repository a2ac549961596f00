"""The admin API, `/admin/v1/...`: platform administrators manage the registry, one router per record."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from harambee_gateway.admin import agreements, clients, identity_providers, organisations, people, signing_keys, tenants
from harambee_gateway.auth import platform_admin

# Every route here is a platform administrator's; a route that records who made a change names them too.
router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(platform_admin)])
for module in (tenants, identity_providers, organisations, clients, people, agreements, signing_keys):
    router.include_router(module.router)
