"""Providers: registry organisations a county registers, vets per intervention type, and names practitioners of.

Only an organisation the registry has working in the tenant may be registered: interventions keeps the
registry's organisations from its `organisation.created` and `organisation.updated` events.

A vetting runs from its date to its expiry. A provider gets a new task only for a type it is vetted
for on the task's start and today; once the vetting expires its open tasks of that type are flagged
(`flags.checks`). Who a caller is as a provider comes from the token: a partner system acts for its
organisation (every task of it), a practitioner (`intervention_provider`) for themself (the tasks given
to them by name).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.interventions import ProviderVetted
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.permissions import Role
from harambee_common.problems import Conflict, NotFound, ValidationFailed, or_not_found
from harambee_interventions.events import EVENTS
from harambee_interventions.intervention_types import service as intervention_types
from harambee_interventions.models import Practitioner, Provider, Vetting
from harambee_interventions.providers import repository


@dataclass(frozen=True)
class ProviderRecord:
    """A provider with its vettings and practitioners."""

    provider: Provider
    vettings: list[Vetting]
    practitioners: list[Practitioner]


@dataclass(frozen=True)
class Acting:
    """The provider a caller acts for, and the practitioner they are (None: the organisation's system)."""

    provider: Provider
    practitioner: Practitioner | None


def learn_organisation(*, uow: UnitOfWork, organisation: str, kind: str, tenants: list[str]) -> None:
    """The registry created or changed an organisation: keep where it works."""
    repository.put_organisation(session=uow.session, organisation=organisation, kind=kind, tenants=sorted(tenants))


def register(*, uow: UnitOfWork, principal: TenantPrincipal, organisation: str, at: datetime) -> ProviderRecord:
    """Registers a registry organisation working in the tenant as a provider (409 if it already is one)."""
    if not repository.works_in(session=uow.session, organisation=organisation, tenant=uow.tenant):
        raise ValidationFailed(f"The registry has no organisation {organisation!r} working in this tenant: "
                               "the platform administrator registers it (or adds this tenant to it) first.")
    provider = Provider(provider_id=uuid.uuid4(), tenant_id=uow.tenant, organisation=organisation,
                        registered_at=at, registered_by=principal.actor)
    if not repository.add_provider(session=uow.session, provider=provider):
        raise Conflict(f"The organisation {organisation!r} is already a provider here.")
    return ProviderRecord(provider, [], [])


def one(*, uow: UnitOfWork, provider_id: uuid.UUID) -> ProviderRecord:
    """One provider with its vettings and practitioners."""
    provider = or_not_found(repository.get_provider(session=uow.session, provider_id=provider_id),
                            "No such provider.")
    return _records(uow=uow, providers=[provider])[0]


def page(*, uow: UnitOfWork, cursor: str | None, limit: int) -> tuple[list[ProviderRecord], str | None]:
    """A page of the tenant's providers, newest first."""
    found: Slice[Provider] = repository.list_providers(session=uow.session, cursor=cursor, limit=limit)
    return _records(uow=uow, providers=found.rows), found.next_cursor


def vet(*, uow: UnitOfWork, principal: TenantPrincipal, provider_id: uuid.UUID, intervention_type: str,
        vetted_on: date, expires_on: date, at: datetime) -> ProviderRecord:
    """Records a provider's vetting for one intervention type (a new one replaces the last)."""
    record = one(uow=uow, provider_id=provider_id)
    intervention_types.require_active(uow=uow, codes={intervention_type})
    if vetted_on > at.date():
        raise ValidationFailed("A vetting cannot be dated in the future.")
    repository.put_vetting(session=uow.session, vetting=Vetting(
        tenant_id=uow.tenant, provider_id=provider_id, intervention_type=intervention_type, vetted_on=vetted_on,
        expires_on=expires_on, recorded_at=at, recorded_by=principal.actor))
    EVENTS.publish(uow, ProviderVetted(
        provider=provider_id, organisation=record.provider.organisation, intervention_type=intervention_type,
        vetted_on=vetted_on, expires_on=expires_on, actor=principal.actor,
    ), subject=str(provider_id))
    return one(uow=uow, provider_id=provider_id)


def add_practitioner(*, uow: UnitOfWork, provider_id: uuid.UUID, person_id: uuid.UUID,
                     at: datetime) -> ProviderRecord:
    """Names a practitioner of a provider (a person is a practitioner of one provider per tenant)."""
    one(uow=uow, provider_id=provider_id)
    practitioner = Practitioner(practitioner_id=uuid.uuid4(), tenant_id=uow.tenant, provider_id=provider_id,
                                person_id=person_id, added_at=at)
    if not repository.add_practitioner(session=uow.session, practitioner=practitioner):
        raise Conflict("That person is already a practitioner of a provider here.")
    return one(uow=uow, provider_id=provider_id)


def require_assignable(*, uow: UnitOfWork, provider_id: uuid.UUID, practitioner_id: uuid.UUID | None,
                       intervention_type: str, starts_on: date, today: date) -> Provider:
    """The provider, if it may be given a new task of this type (vetted, not expired); else a 422."""
    provider = repository.get_provider(session=uow.session, provider_id=provider_id)
    if provider is None:
        raise ValidationFailed(f"No provider {provider_id} in this tenant.")
    vetting = repository.get_vetting(session=uow.session, provider_id=provider_id,
                                     intervention_type=intervention_type)
    if vetting is None:
        raise ValidationFailed(f"Provider {provider.organisation!r} is not vetted for {intervention_type!r}.")
    if vetting.expires_on < max(today, starts_on):
        raise ValidationFailed(f"Provider {provider.organisation!r}'s vetting for {intervention_type!r} "
                               f"expired on {vetting.expires_on}: it cannot be given new tasks.")
    if practitioner_id is not None:
        practitioner = repository.get_practitioner(session=uow.session, practitioner_id=practitioner_id)
        if practitioner is None or practitioner.provider_id != provider_id:
            raise ValidationFailed(f"No practitioner {practitioner_id} of provider {provider.organisation!r}.")
    return provider


def acting_provider(*, uow: UnitOfWork, principal: TenantPrincipal) -> Acting:
    """The provider (and practitioner) the caller acts for; 404 when it is none here, as if nothing existed."""
    provider = None
    if principal.organisation:
        provider = repository.provider_of_organisation(session=uow.session, organisation=principal.organisation)
    if provider is None:
        raise NotFound("No tasks here.")
    if Role.intervention_provider not in principal.roles:
        return Acting(provider, None)
    try:
        person = uuid.UUID(principal.actor)
    except ValueError:
        raise NotFound("No tasks here.") from None
    practitioner = repository.practitioner_of_person(session=uow.session, person_id=person)
    if practitioner is None or practitioner.provider_id != provider.provider_id:
        raise NotFound("No tasks here.")
    return Acting(provider, practitioner)


def _records(*, uow: UnitOfWork, providers: list[Provider]) -> list[ProviderRecord]:
    ids = [p.provider_id for p in providers]
    vettings = repository.vettings_of(session=uow.session, provider_ids=ids)
    practitioners = repository.practitioners_of(session=uow.session, provider_ids=ids)
    return [ProviderRecord(p, [v for v in vettings if v.provider_id == p.provider_id],
                           [x for x in practitioners if x.provider_id == p.provider_id]) for p in providers]
