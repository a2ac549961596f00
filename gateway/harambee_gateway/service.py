"""The registry's logic: what a client is allowed, and how clients and secrets are issued.

Functions here never commit; the caller's unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from harambee_gateway import credentials, repository
from harambee_gateway.models import Client


@dataclass(frozen=True)
class Grant:
    """The roles and scopes a client holds in one tenant."""

    tenant: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class RegisteredClient:
    """A client as the token endpoint sees it: detached from any session, safe to share."""

    client_id: str
    secret_hash: str
    organisation: str | None
    grants: tuple[Grant, ...]

    @property
    def scopes(self) -> frozenset[str]:
        """Every scope granted to the client, in any tenant."""
        return frozenset(scope for grant in self.grants for scope in grant.scopes)

    @property
    def tenant_roles(self) -> dict[str, list[str]]:
        """The `tenants` claim: tenant slug to the client's roles there."""
        return {grant.tenant: list(grant.roles) for grant in self.grants}


@dataclass(frozen=True)
class IssuedCredentials:
    """A client id with its secret in clear: shown once, never stored."""

    client_id: str
    client_secret: str


def get_registered_client(*, db_session: Session, client_id: str) -> RegisteredClient | None:
    """Loads an active client with its grants, or None when it is unknown or revoked."""
    client = repository.get_active_client(db_session=db_session, client_id=client_id)
    if client is None:
        return None
    return RegisteredClient(
        client_id=client.client_id,
        secret_hash=client.secret_hash,
        organisation=client.organisation.slug if client.organisation else None,
        grants=tuple(
            Grant(tenant=g.tenant, roles=tuple(g.roles), scopes=tuple(g.scopes))
            for g in sorted(client.grants, key=lambda g: g.tenant)
        ),
    )


def ensure_tenant(*, db_session: Session, slug: str, name: str, kind: str) -> None:
    """Creates a tenant, or brings its name and kind up to date."""
    repository.upsert_tenant(db_session=db_session, slug=slug, name=name, kind=kind)


def ensure_organisation(*, db_session: Session, slug: str, name: str, kind: str) -> None:
    """Creates an organisation, or brings its name and kind up to date."""
    repository.upsert_organisation(db_session=db_session, slug=slug, name=name, kind=kind)


def register_client(*, db_session: Session, name: str, organisation: str | None) -> IssuedCredentials:
    """Registers a new client under a fresh id and secret."""
    organisation_id = None
    if organisation is not None:
        org = repository.get_organisation_by_slug(db_session=db_session, slug=organisation)
        if org is None:
            raise LookupError(f"no organisation {organisation!r}")
        organisation_id = org.id
    issued = IssuedCredentials(
        client_id=credentials.new_client_id(), client_secret=credentials.new_client_secret()
    )
    repository.add_client(
        db_session=db_session,
        client=Client(
            client_id=issued.client_id,
            secret_hash=credentials.hash_secret(secret=issued.client_secret),
            name=name,
            organisation_id=organisation_id,
        ),
    )
    return issued


def rotate_client_secret(*, db_session: Session, client: Client) -> IssuedCredentials:
    """Replaces a client's secret with a fresh one; the old secret stops working at commit."""
    secret = credentials.new_client_secret()
    client.secret_hash = credentials.hash_secret(secret=secret)
    db_session.flush()
    return IssuedCredentials(client_id=client.client_id, client_secret=secret)


def set_grant(
    *, db_session: Session, client_id: str, tenant: str, roles: list[str], scopes: list[str]
) -> None:
    """Sets the roles and scopes a client holds in a tenant."""
    repository.upsert_grant(
        db_session=db_session, client_id=client_id, tenant=tenant, roles=roles, scopes=scopes
    )
