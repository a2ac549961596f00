"""Every query about providers, their practitioners and vettings."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_interventions.models import Practitioner, Provider, RegistryOrganisation, Vetting

PROVIDERS = Keyset(columns=(Provider.registered_at, Provider.provider_id), types=(datetime, uuid.UUID),
                   descending=True)


def add_provider(*, session: Session, provider: Provider) -> bool:
    """Registers a provider unless its organisation already is one here; returns whether it was added."""
    added = session.scalar(
        insert(Provider).values(provider_id=provider.provider_id, tenant_id=provider.tenant_id,
                                organisation=provider.organisation, registered_at=provider.registered_at,
                                registered_by=provider.registered_by)
        .on_conflict_do_nothing(constraint="providers_one_per_organisation").returning(Provider.provider_id)
    )
    return added is not None


def get_provider(*, session: Session, provider_id: uuid.UUID) -> Provider | None:
    """One provider of the tenant."""
    return session.get(Provider, provider_id)


def provider_of_organisation(*, session: Session, organisation: str) -> Provider | None:
    """The tenant's provider record of a registry organisation."""
    return session.scalar(sa.select(Provider).where(Provider.organisation == organisation))


def list_providers(*, session: Session, cursor: str | None, limit: int) -> Slice[Provider]:
    """A page of the tenant's providers, newest first."""
    return paginate(session, sa.select(Provider), keyset=PROVIDERS, cursor=cursor, limit=limit)


def vettings_of(*, session: Session, provider_ids: list[uuid.UUID]) -> list[Vetting]:
    """The vettings of some providers."""
    # populate_existing: a vetting just replaced by put_vetting's upsert is read as it now is.
    return list(session.scalars(sa.select(Vetting).where(Vetting.provider_id.in_(provider_ids))
                                .order_by(Vetting.intervention_type).execution_options(populate_existing=True)))


def practitioners_of(*, session: Session, provider_ids: list[uuid.UUID]) -> list[Practitioner]:
    """The named practitioners of some providers."""
    return list(session.scalars(sa.select(Practitioner).where(Practitioner.provider_id.in_(provider_ids))
                                .order_by(Practitioner.added_at)))


def get_vetting(*, session: Session, provider_id: uuid.UUID, intervention_type: str) -> Vetting | None:
    """A provider's vetting for one type."""
    return session.get(Vetting, (provider_id, intervention_type))


def put_vetting(*, session: Session, vetting: Vetting) -> None:
    """Records a provider's (new) vetting for one type."""
    values = {c: getattr(vetting, c) for c in ("tenant_id", "provider_id", "intervention_type", "vetted_on",
                                                 "expires_on", "recorded_at", "recorded_by")}
    session.execute(insert(Vetting).values(**values).on_conflict_do_update(
        index_elements=[Vetting.provider_id, Vetting.intervention_type],
        set_={k: v for k, v in values.items() if k not in ("tenant_id", "provider_id", "intervention_type")}))


def add_practitioner(*, session: Session, practitioner: Practitioner) -> bool:
    """Names a practitioner unless the person already is one here; returns whether it was added."""
    added = session.scalar(
        insert(Practitioner).values(practitioner_id=practitioner.practitioner_id, tenant_id=practitioner.tenant_id,
                                    provider_id=practitioner.provider_id, person_id=practitioner.person_id,
                                    added_at=practitioner.added_at)
        .on_conflict_do_nothing(constraint="practitioners_one_provider_per_person")
        .returning(Practitioner.practitioner_id)
    )
    return added is not None


def get_practitioner(*, session: Session, practitioner_id: uuid.UUID) -> Practitioner | None:
    """One practitioner of the tenant."""
    return session.get(Practitioner, practitioner_id)


def practitioner_of_person(*, session: Session, person_id: uuid.UUID) -> Practitioner | None:
    """The practitioner record of a registry person."""
    return session.scalar(sa.select(Practitioner).where(Practitioner.person_id == person_id))


def put_organisation(*, session: Session, organisation: str, kind: str, tenants: list[str]) -> None:
    """Keeps a registry organisation as it now stands."""
    session.execute(insert(RegistryOrganisation).values(organisation=organisation, kind=kind, tenants=tenants)
                    .on_conflict_do_update(index_elements=[RegistryOrganisation.organisation],
                                           set_={"kind": kind, "tenants": tenants}))


def works_in(*, session: Session, organisation: str, tenant: str) -> bool:
    """Whether the registry has the organisation working in the tenant."""
    return bool(session.scalar(sa.select(sa.exists().where(
        RegistryOrganisation.organisation == organisation,
        sa.literal(tenant) == sa.any_(RegistryOrganisation.tenants)))))
