"""Organisations and the tenants they work in."""

from __future__ import annotations

from fastapi import APIRouter, status

from harambee_common.pagination import Cursor, Limit, Page
from harambee_gateway import organisations
from harambee_gateway.auth import PlatformAdmin
from harambee_gateway.schemas import OrganisationCreate, OrganisationUpdate, OrganisationView
from harambee_gateway.unit_of_work import RegistryUnitOfWorkDep

router = APIRouter()


@router.post("/organisations", status_code=status.HTTP_201_CREATED)
def create_organisation(body: OrganisationCreate, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> OrganisationView:
    """Registers an organisation and the tenants it works in."""
    organisation = organisations.create_organisation(uow=uow, data=body, actor=admin.subject)
    return OrganisationView.model_validate(organisation)


@router.get("/organisations")
def list_organisations(uow: RegistryUnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None) -> Page[OrganisationView]:
    """Lists organisations, oldest first."""
    found = organisations.list_organisations(uow=uow, cursor=cursor, limit=limit)
    items = [OrganisationView.model_validate(o) for o in found.rows]
    return Page[OrganisationView](items=items, next_cursor=found.next_cursor)


@router.get("/organisations/{slug}")
def get_organisation(slug: str, uow: RegistryUnitOfWorkDep) -> OrganisationView:
    """Gets one organisation."""
    return OrganisationView.model_validate(organisations.get_organisation(uow=uow, slug=slug))


@router.patch("/organisations/{slug}")
def update_organisation(
    slug: str, body: OrganisationUpdate, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep
) -> OrganisationView:
    """Renames an organisation or changes the tenants it works in."""
    organisation = organisations.update_organisation(uow=uow, slug=slug, changes=body, actor=admin.subject)
    return OrganisationView.model_validate(organisation)
