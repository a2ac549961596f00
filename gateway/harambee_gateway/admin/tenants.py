"""Tenants: the county and national programmes."""

from __future__ import annotations

from fastapi import APIRouter, status

from harambee_common.pagination import Cursor, Limit, Page
from harambee_gateway import tenants
from harambee_gateway.auth import PlatformAdmin
from harambee_gateway.schemas import TenantCreate, TenantUpdate, TenantView
from harambee_gateway.unit_of_work import RegistryUnitOfWorkDep

router = APIRouter()


@router.post("/tenants", status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> TenantView:
    """Creates a county or national tenant."""
    return TenantView.model_validate(tenants.create_tenant(uow=uow, data=body, actor=admin.subject))


@router.get("/tenants")
def list_tenants(uow: RegistryUnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None) -> Page[TenantView]:
    """Lists tenants, oldest first."""
    found = tenants.list_tenants(uow=uow, cursor=cursor, limit=limit)
    return Page[TenantView](items=[TenantView.model_validate(t) for t in found.rows], next_cursor=found.next_cursor)


@router.get("/tenants/{slug}")
def get_tenant(slug: str, uow: RegistryUnitOfWorkDep) -> TenantView:
    """Gets one tenant."""
    return TenantView.model_validate(tenants.get_tenant(uow=uow, slug=slug))


@router.patch("/tenants/{slug}")
def update_tenant(slug: str, body: TenantUpdate, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> TenantView:
    """Renames a tenant, sets the counties a national tenant oversees, or requires a second factor."""
    return TenantView.model_validate(tenants.update_tenant(uow=uow, slug=slug, changes=body, actor=admin.subject))
