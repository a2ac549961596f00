"""Tenants: the county and national programmes, and `platform`, where administrators act.

Functions here never commit; the caller's unit of work does.
"""

from __future__ import annotations

from harambee_common.catalogue import registry as catalogue
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, ValidationFailed, or_not_found
from harambee_gateway import repository
from harambee_gateway.events import publish
from harambee_gateway.models import Tenant
from harambee_gateway.schemas import TenantCreate, TenantUpdate


def get_tenant(*, uow: UnitOfWork, slug: str) -> Tenant:
    """The tenant; NotFound when there is none."""
    return or_not_found(repository.get_tenant(db_session=uow.session, slug=slug), f"No tenant {slug!r}.")


def list_tenants(*, uow: UnitOfWork, cursor: str | None, limit: int) -> Slice[Tenant]:
    """A page of tenants, oldest first."""
    return repository.list_tenants(db_session=uow.session, cursor=cursor, limit=limit)


def create_tenant(*, uow: UnitOfWork, data: TenantCreate, actor: str) -> Tenant:
    """Creates a county or national tenant."""
    if repository.get_tenant(db_session=uow.session, slug=data.slug) is not None:
        raise Conflict(f"A tenant {data.slug!r} exists already.")
    _check_oversight(uow=uow, kind=data.kind, oversees=data.oversees)
    tenant = Tenant(
        slug=data.slug, name=data.name, kind=data.kind, oversees=data.oversees, require_totp=data.require_totp
    )
    _add(uow=uow, tenant=tenant, actor=actor)
    return tenant


def update_tenant(*, uow: UnitOfWork, slug: str, changes: TenantUpdate, actor: str) -> Tenant:
    """Renames a tenant, changes what it oversees or whether it requires a second factor."""
    tenant = get_tenant(uow=uow, slug=slug)
    if changes.oversees is not None:
        _check_oversight(uow=uow, kind=tenant.kind, oversees=changes.oversees)
        tenant.oversees = changes.oversees
    if changes.name is not None:
        tenant.name = changes.name
    if changes.require_totp is not None:
        tenant.require_totp = changes.require_totp
    _updated(uow=uow, tenant=tenant, actor=actor)
    return tenant


def ensure_tenant(
    *, uow: UnitOfWork, slug: str, name: str, kind: str, actor: str, oversees: tuple[str, ...] = ()
) -> None:
    """Creates a tenant, or brings it up to date; publishes what changed."""
    existing = repository.get_tenant(db_session=uow.session, slug=slug)
    if existing is None:
        _add(uow=uow, tenant=Tenant(slug=slug, name=name, kind=kind, oversees=list(oversees)), actor=actor)
    elif (existing.name, existing.kind, list(existing.oversees)) != (name, kind, list(oversees)):
        existing.name, existing.kind, existing.oversees = name, kind, list(oversees)
        _updated(uow=uow, tenant=existing, actor=actor)


def _check_oversight(*, uow: UnitOfWork, kind: str, oversees: list[str]) -> None:
    if oversees and kind != "national":
        raise ValidationFailed("Only a national tenant oversees other tenants.")
    found = repository.existing_tenants(db_session=uow.session, slugs=oversees)
    unknown = sorted(set(oversees) - set(found))
    if unknown:
        raise ValidationFailed(f"Unknown tenants: {', '.join(unknown)}.")
    not_county = sorted(slug for slug, t in found.items() if t.kind != "county")
    if not_county:
        raise ValidationFailed(f"A national tenant oversees county tenants only, not: {', '.join(not_county)}.")


def _add(*, uow: UnitOfWork, tenant: Tenant, actor: str) -> None:
    repository.add(db_session=uow.session, row=tenant)
    uow.session.refresh(tenant)
    _publish(uow=uow, event=catalogue.TenantCreated, tenant=tenant, actor=actor)


def _updated(*, uow: UnitOfWork, tenant: Tenant, actor: str) -> None:
    uow.session.flush()
    _publish(uow=uow, event=catalogue.TenantUpdated, tenant=tenant, actor=actor)


def _publish(
    *, uow: UnitOfWork, event: type[catalogue.TenantCreated | catalogue.TenantUpdated], tenant: Tenant, actor: str
) -> None:
    """Publishes the tenant as it now stands, in its own log."""
    data = event(
        tenant=tenant.slug,
        name=tenant.name,
        kind=tenant.kind,
        oversees=list(tenant.oversees),
        require_totp=tenant.require_totp,
        actor=actor,
    )
    publish(uow, data, tenant=tenant.slug, subject=tenant.slug)
