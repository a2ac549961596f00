"""Every query on the registry tables."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, selectinload

from harambee_gateway.models import Client, ClientGrant, Organisation, Tenant


def get_active_client(*, db_session: Session, client_id: str) -> Client | None:
    """The client with its organisation and grants, unless it is unknown or revoked."""
    return db_session.scalars(
        sa.select(Client)
        .where(Client.client_id == client_id, Client.revoked_at.is_(None))
        .options(selectinload(Client.organisation), selectinload(Client.grants))
    ).one_or_none()


def get_client_by_name(*, db_session: Session, name: str) -> Client | None:
    """The client registered under name, revoked or not."""
    return db_session.scalars(sa.select(Client).where(Client.name == name)).one_or_none()


def get_organisation_by_slug(*, db_session: Session, slug: str) -> Organisation | None:
    """The organisation with this slug."""
    return db_session.scalars(sa.select(Organisation).where(Organisation.slug == slug)).one_or_none()


def upsert_tenant(*, db_session: Session, slug: str, name: str, kind: str) -> None:
    """Creates the tenant, or updates its name and kind."""
    db_session.execute(
        insert(Tenant)
        .values(slug=slug, name=name, kind=kind)
        .on_conflict_do_update(index_elements=[Tenant.slug], set_={"name": name, "kind": kind})
    )


def upsert_organisation(*, db_session: Session, slug: str, name: str, kind: str) -> Organisation:
    """Creates the organisation, or updates its name and kind; returns it."""
    db_session.execute(
        insert(Organisation)
        .values(slug=slug, name=name, kind=kind)
        .on_conflict_do_update(index_elements=[Organisation.slug], set_={"name": name, "kind": kind})
    )
    organisation = get_organisation_by_slug(db_session=db_session, slug=slug)
    assert organisation is not None
    return organisation


def add_client(*, db_session: Session, client: Client) -> None:
    """Stages a new client."""
    db_session.add(client)
    db_session.flush()


def upsert_grant(
    *, db_session: Session, client_id: str, tenant: str, roles: list[str], scopes: list[str]
) -> None:
    """Sets the roles and scopes a client holds in a tenant."""
    db_session.execute(
        insert(ClientGrant)
        .values(client_id=client_id, tenant=tenant, roles=roles, scopes=scopes)
        .on_conflict_do_update(
            index_elements=[ClientGrant.client_id, ClientGrant.tenant],
            set_={"roles": roles, "scopes": scopes},
        )
    )


def database_is_reachable(*, db_session: Session) -> bool:
    """Whether a trivial query succeeds."""
    return db_session.execute(sa.select(1)).scalar_one() == 1
