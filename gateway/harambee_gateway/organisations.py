"""Organisations: CSOs, agencies, programmes and intervention providers, each working in some tenants.

Functions here never commit; the caller's unit of work does.
"""

from __future__ import annotations

from harambee_common.catalogue import registry as catalogue
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, ValidationFailed, or_not_found
from harambee_gateway import repository
from harambee_gateway.events import PLATFORM, publish
from harambee_gateway.models import Organisation
from harambee_gateway.schemas import OrganisationCreate, OrganisationUpdate


def get_organisation(*, uow: UnitOfWork, slug: str) -> Organisation:
    """The organisation; NotFound when there is none."""
    organisation = repository.get_organisation_by_slug(db_session=uow.session, slug=slug)
    return or_not_found(organisation, f"No organisation {slug!r}.")


def get_organisation_or_invalid(*, uow: UnitOfWork, slug: str) -> Organisation:
    """The organisation named in a request body; an unknown one makes the request invalid."""
    organisation = repository.get_organisation_by_slug(db_session=uow.session, slug=slug)
    if organisation is None:
        raise ValidationFailed(f"Unknown organisation {slug!r}.")
    return organisation


def list_organisations(*, uow: UnitOfWork, cursor: str | None, limit: int) -> Slice[Organisation]:
    """A page of organisations, oldest first."""
    return repository.list_organisations(db_session=uow.session, cursor=cursor, limit=limit)


def create_organisation(*, uow: UnitOfWork, data: OrganisationCreate, actor: str) -> Organisation:
    """Registers an organisation and the tenants it works in."""
    if repository.get_organisation_by_slug(db_session=uow.session, slug=data.slug) is not None:
        raise Conflict(f"An organisation {data.slug!r} exists already.")
    _check_programme_tenants(uow=uow, slugs=data.tenants)
    organisation = Organisation(slug=data.slug, name=data.name, kind=data.kind, tenants=data.tenants)
    _add(uow=uow, organisation=organisation, actor=actor)
    return organisation


def update_organisation(*, uow: UnitOfWork, slug: str, changes: OrganisationUpdate, actor: str) -> Organisation:
    """Renames an organisation or changes the tenants it works in."""
    organisation = get_organisation(uow=uow, slug=slug)
    if changes.tenants is not None:
        _check_programme_tenants(uow=uow, slugs=changes.tenants)
        organisation.tenants = changes.tenants
    if changes.name is not None:
        organisation.name = changes.name
    _updated(uow=uow, organisation=organisation, actor=actor)
    return organisation


def ensure_organisation(
    *, uow: UnitOfWork, slug: str, name: str, kind: str, actor: str, tenants: tuple[str, ...] = ()
) -> None:
    """Creates an organisation, or brings it up to date; publishes what changed."""
    existing = repository.get_organisation_by_slug(db_session=uow.session, slug=slug)
    if existing is None:
        organisation = Organisation(slug=slug, name=name, kind=kind, tenants=list(tenants))
        _add(uow=uow, organisation=organisation, actor=actor)
    elif (existing.name, existing.kind, list(existing.tenants)) != (name, kind, list(tenants)):
        existing.name, existing.kind, existing.tenants = name, kind, list(tenants)
        _updated(uow=uow, organisation=existing, actor=actor)


def _check_programme_tenants(*, uow: UnitOfWork, slugs: list[str]) -> None:
    found = repository.existing_tenants(db_session=uow.session, slugs=slugs)
    unknown = sorted(s for s in set(slugs) if s not in found or found[s].kind == "platform")
    if unknown:
        raise ValidationFailed(f"Unknown programme tenants: {', '.join(unknown)}.")


def _add(*, uow: UnitOfWork, organisation: Organisation, actor: str) -> None:
    repository.add(db_session=uow.session, row=organisation)
    uow.session.refresh(organisation)
    _publish(uow=uow, event=catalogue.OrganisationCreated, organisation=organisation, actor=actor)


def _updated(*, uow: UnitOfWork, organisation: Organisation, actor: str) -> None:
    uow.session.flush()
    _publish(uow=uow, event=catalogue.OrganisationUpdated, organisation=organisation, actor=actor)


def _publish(
    *,
    uow: UnitOfWork,
    event: type[catalogue.OrganisationCreated | catalogue.OrganisationUpdated],
    organisation: Organisation,
    actor: str,
) -> None:
    """Publishes the organisation as it now stands; it works in several tenants, so in the platform's log."""
    data = event(
        organisation=organisation.slug,
        name=organisation.name,
        kind=organisation.kind,
        tenants=list(organisation.tenants),
        actor=actor,
    )
    publish(uow, data, tenant=PLATFORM, subject=organisation.slug)
