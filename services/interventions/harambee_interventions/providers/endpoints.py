"""The providers' routes: registering, vetting and naming practitioners (county staff)."""

from __future__ import annotations

import uuid

from fastapi import status

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router
from harambee_interventions.auth import PlansWrite, StaffRead
from harambee_interventions.dependencies import ClockDep
from harambee_interventions.intervention_types.schemas import CodePath
from harambee_interventions.providers import service
from harambee_interventions.providers.schemas import (
    PractitionerIn,
    PractitionerView,
    ProviderIn,
    ProviderPage,
    ProviderView,
    VettingIn,
    VettingView,
)

router = tenant_router(tags=["providers"], responses=problem_responses(401, 403, 404, 422))


@router.post("/providers", response_model=ProviderView, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(409))
def register_provider(body: ProviderIn, principal: PlansWrite, uow: UnitOfWorkDep, clock: ClockDep) -> ProviderView:
    """Registers a registry organisation as an intervention provider here (vet it before giving it tasks)."""
    return _view(service.register(uow=uow, principal=principal, organisation=body.organisation, at=clock.now()),
                 clock=clock)


@router.get("/providers", response_model=ProviderPage)
def list_providers(
    _principal: StaffRead, uow: UnitOfWorkDep, clock: ClockDep, limit: Limit = 50, cursor: Cursor = None,
) -> ProviderPage:
    """The tenant's providers, newest first, with their vettings and practitioners."""
    records, next_cursor = service.page(uow=uow, cursor=cursor, limit=limit)
    return ProviderPage(items=[_view(r, clock=clock) for r in records], next_cursor=next_cursor)


@router.get("/providers/{provider_id}", response_model=ProviderView)
def get_provider(provider_id: uuid.UUID, _principal: StaffRead, uow: UnitOfWorkDep, clock: ClockDep) -> ProviderView:
    """One provider, its vettings and practitioners."""
    return _view(service.one(uow=uow, provider_id=provider_id), clock=clock)


@router.put("/providers/{provider_id}/vettings/{intervention_type}", response_model=ProviderView)
def vet_provider(
    provider_id: uuid.UUID, intervention_type: CodePath, body: VettingIn, principal: PlansWrite,
    uow: UnitOfWorkDep, clock: ClockDep,
) -> ProviderView:
    """Records the provider's vetting for one intervention type, with its date and expiry."""
    record = service.vet(uow=uow, principal=principal, provider_id=provider_id, intervention_type=intervention_type,
                         vetted_on=body.vetted_on, expires_on=body.expires_on, at=clock.now())
    return _view(record, clock=clock)


@router.post("/providers/{provider_id}/practitioners", response_model=ProviderView,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(409))
def add_practitioner(
    provider_id: uuid.UUID, body: PractitionerIn, _principal: PlansWrite, uow: UnitOfWorkDep, clock: ClockDep,
) -> ProviderView:
    """Names a practitioner of the provider (a registry person), who then sees the tasks given to them."""
    record = service.add_practitioner(uow=uow, provider_id=provider_id, person_id=body.person_id, at=clock.now())
    return _view(record, clock=clock)


def _view(record: service.ProviderRecord, *, clock: ClockDep) -> ProviderView:
    today = clock.now().date()
    return ProviderView(
        provider_id=record.provider.provider_id, organisation=record.provider.organisation,
        registered_at=record.provider.registered_at,
        vettings=[VettingView(intervention_type=v.intervention_type, vetted_on=v.vetted_on, expires_on=v.expires_on,
                              expired=v.expires_on < today) for v in record.vettings],
        practitioners=[PractitionerView.model_validate(p) for p in record.practitioners],
    )
