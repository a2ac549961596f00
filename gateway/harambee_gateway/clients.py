"""OAuth2 clients: what each is allowed, and how clients and their secrets are issued and rotated.

Functions here never commit; the caller's unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from harambee_common.catalogue import registry as catalogue
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.permissions import Role, Scope
from harambee_common.problems import Conflict, ValidationFailed, or_not_found
from harambee_gateway import client_secrets, partners, repository
from harambee_gateway.events import PLATFORM, publish
from harambee_gateway.models import Client, Organisation
from harambee_gateway.schemas import ClientCreate, GrantIn

REGISTRY_SCOPES = frozenset({Scope.registry_admin, Scope.registry_read})
LOOPBACK = ("127.0.0.1", "localhost", "::1")


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
    organisation_kind: str | None = None
    # Set while a rotation is under way: the secret it replaces, still accepted.
    previous_secret_hash: str | None = None
    client_type: str = "confidential"
    redirect_uris: tuple[str, ...] = ()
    allowed_scopes: tuple[str, ...] = ()

    @property
    def is_public(self) -> bool:
        """Whether this is a public client (a single-page app: no secret, PKCE required)."""
        return self.client_type == "public"

    @property
    def scopes(self) -> frozenset[str]:
        """Every scope granted to the client in any tenant (a public client's ceiling for people)."""
        if self.is_public:
            return frozenset(self.allowed_scopes)
        return frozenset(scope for grant in self.grants for scope in grant.scopes)

    @property
    def tenant_roles(self) -> dict[str, list[str]]:
        """The `tenants` claim: tenant slug to the client's roles there."""
        return {grant.tenant: list(grant.roles) for grant in self.grants}

    @property
    def tenant_scopes(self) -> dict[str, frozenset[str]]:
        """Tenant slug to the scopes the client was granted there (and there only)."""
        return {grant.tenant: frozenset(grant.scopes) for grant in self.grants}


@dataclass(frozen=True)
class IssuedCredentials:
    """A client id with its secret in clear: shown once, never stored."""

    client_id: str
    client_secret: str


# --- the token endpoint's view -------------------------------------------------------------------


def get_registered_client(*, db_session: Session, client_id: str) -> RegisteredClient | None:
    """Loads an active client with its grants, or None when it is unknown or revoked."""
    client = repository.get_active_client(db_session=db_session, client_id=client_id)
    if client is None:
        return None
    rotating = (
        client.previous_secret_hash is not None
        and client.previous_secret_expires_at is not None
        and client.previous_secret_expires_at > datetime.now(UTC)
    )
    return RegisteredClient(
        client_id=client.client_id,
        secret_hash=client.secret_hash or "",
        previous_secret_hash=client.previous_secret_hash if rotating else None,
        client_type=client.client_type,
        redirect_uris=tuple(client.redirect_uris),
        allowed_scopes=tuple(client.allowed_scopes),
        organisation=client.organisation.slug if client.organisation else None,
        organisation_kind=client.organisation.kind if client.organisation else None,
        grants=tuple(
            Grant(tenant=g.tenant, roles=tuple(g.roles), scopes=tuple(g.scopes))
            for g in sorted(client.grants, key=lambda g: g.tenant)
        ),
    )


def upgrade_secret_hash(*, db_session: Session, client_id: str, legacy_hash: str, secret: str) -> None:
    """Replaces a legacy hash that secret has just matched with the secret's digest (client_secrets.py).

    Conditional on the row still holding that hash: a rotation committed meanwhile is not undone.
    """
    repository.replace_secret_hash(db_session=db_session, client_id=client_id, old=legacy_hash,
                                   new=client_secrets.hash_client_secret(secret=secret))


def browser_origins(*, db_session: Session, client_id: str) -> frozenset[str]:
    """The web origins a public client's pages run on (those of its redirect URIs), for CORS."""
    client = repository.get_active_client(db_session=db_session, client_id=client_id)
    if client is None or client.client_type != "public":
        return frozenset()
    return frozenset(f"{u.scheme}://{u.netloc}" for u in map(urlsplit, client.redirect_uris))


# --- administration ------------------------------------------------------------------------------


def get_client(*, uow: UnitOfWork, client_id: str, for_update: bool = False) -> Client:
    """The client, revoked or not; NotFound when there is none."""
    client = repository.get_client(db_session=uow.session, client_id=client_id, for_update=for_update)
    return or_not_found(client, f"No client {client_id!r}.")


def list_clients(*, uow: UnitOfWork, cursor: str | None, limit: int) -> Slice[Client]:
    """A page of clients, oldest first."""
    return repository.list_clients(db_session=uow.session, cursor=cursor, limit=limit)


def create_client(*, uow: UnitOfWork, data: ClientCreate, actor: str) -> tuple[Client, str | None]:
    """Registers a client (with its grants, if confidential); returns it with its secret (shown once)."""
    if repository.get_client_by_name(db_session=uow.session, name=data.name) is not None:
        raise Conflict(f"A client named {data.name!r} exists already.")
    organisation = None
    if data.organisation is not None:
        organisation = repository.get_organisation_by_slug(db_session=uow.session, slug=data.organisation)
        if organisation is None:
            raise ValidationFailed(f"Unknown organisation {data.organisation!r}.")
    if data.client_type == "public":
        return _create_public_client(uow=uow, data=data, organisation=organisation, actor=actor)
    if data.redirect_uris or data.allowed_scopes:
        raise ValidationFailed("Redirect URIs and allowed scopes are for public clients.")
    if len({g.tenant for g in data.grants}) != len(data.grants):
        raise ValidationFailed("At most one grant per tenant.")
    for grant in data.grants:
        _check_client_grant(uow=uow, organisation=organisation, grant=grant)
    issued = register_client(uow=uow, name=data.name, organisation=organisation, actor=actor)
    for grant in data.grants:
        set_grant(
            uow=uow,
            client_id=issued.client_id,
            tenant=grant.tenant,
            roles=sorted(set(grant.roles)),
            scopes=sorted(set(grant.scopes)),
            actor=actor,
        )
        partners.record_override(uow=uow, organisation=organisation, tenant=grant.tenant, roles=grant.roles,
                                 override=grant.staff_role_override, actor=actor, client_id=issued.client_id)
    uow.session.expire_all()
    return get_client(uow=uow, client_id=issued.client_id), issued.client_secret


def register_client(
    *, uow: UnitOfWork, name: str, organisation: Organisation | None, actor: str
) -> IssuedCredentials:
    """Registers a new confidential client under a fresh id and secret."""
    issued = IssuedCredentials(client_id=client_secrets.new_client_id(),
                               client_secret=client_secrets.new_client_secret())
    repository.add(
        db_session=uow.session,
        row=Client(
            client_id=issued.client_id,
            secret_hash=client_secrets.hash_client_secret(secret=issued.client_secret),
            name=name,
            organisation_id=organisation.id if organisation else None,
        ),
    )
    data = catalogue.ClientCreated(
        client_id=issued.client_id,
        organisation=organisation.slug if organisation else None,
        client_type="confidential",
        actor=actor,
    )
    publish(uow, data, tenant=PLATFORM, subject=issued.client_id)
    return issued


def _create_public_client(
    *, uow: UnitOfWork, data: ClientCreate, organisation: Organisation | None, actor: str
) -> tuple[Client, None]:
    """A single-page app: no secret, exact redirect URIs, and the most its people's tokens may hold."""
    if data.grants:
        raise ValidationFailed("A public client acts for the person signed in; it holds no grants.")
    if not data.redirect_uris or not data.allowed_scopes:
        raise ValidationFailed("A public client needs its redirect URIs and the scopes it may ask for.")
    for uri in data.redirect_uris:
        _check_redirect_uri(uri)
    if REGISTRY_SCOPES & set(data.allowed_scopes):
        raise ValidationFailed("The registry scopes are not for single-page apps.")
    client = Client(
        client_id=client_secrets.new_client_id(),
        secret_hash=None,
        name=data.name,
        organisation_id=organisation.id if organisation else None,
        client_type="public",
        redirect_uris=list(data.redirect_uris),
        allowed_scopes=sorted(set(data.allowed_scopes)),
    )
    repository.add(db_session=uow.session, row=client)
    event = catalogue.ClientCreated(
        client_id=client.client_id,
        organisation=data.organisation,
        client_type="public",
        redirect_uris=list(data.redirect_uris),
        allowed_scopes=sorted(set(data.allowed_scopes)),
        actor=actor,
    )
    publish(uow, event, tenant=PLATFORM, subject=client.client_id)
    uow.session.expire_all()
    return get_client(uow=uow, client_id=client.client_id), None


def _check_redirect_uri(uri: str) -> None:
    """Exact, absolute, https (plain http on the loopback interface only, for development)."""
    parsed = urlsplit(uri)
    loopback = parsed.scheme == "http" and parsed.hostname in LOOPBACK
    if not (parsed.scheme == "https" or loopback) or not parsed.hostname or parsed.fragment:
        raise ValidationFailed(f"{uri!r} is not an https URL without a fragment (or an http loopback one).")


def set_client_grant(*, uow: UnitOfWork, client_id: str, grant: GrantIn, actor: str) -> Client:
    """Sets the roles and scopes an active client holds in one tenant."""
    client = get_client(uow=uow, client_id=client_id)
    if client.revoked_at is not None:
        raise Conflict("The client is revoked.")
    if client.client_type == "public":
        raise ValidationFailed("A public client acts for the person signed in; it holds no grants.")
    _check_client_grant(uow=uow, organisation=client.organisation, grant=grant)
    set_grant(
        uow=uow,
        client_id=client_id,
        tenant=grant.tenant,
        roles=sorted(set(grant.roles)),
        scopes=sorted(set(grant.scopes)),
        actor=actor,
    )
    partners.record_override(uow=uow, organisation=client.organisation, tenant=grant.tenant, roles=grant.roles,
                             override=grant.staff_role_override, actor=actor, client_id=client_id)
    uow.session.expire_all()
    return get_client(uow=uow, client_id=client_id)


def set_grant(*, uow: UnitOfWork, client_id: str, tenant: str, roles: list[str], scopes: list[str], actor: str) -> None:
    """Sets the roles and scopes a client holds in a tenant; publishes the change (in that tenant's log)."""
    existing = repository.get_grant(db_session=uow.session, client_id=client_id, tenant=tenant)
    if existing is not None and (list(existing.roles), list(existing.scopes)) == (roles, scopes):
        return
    repository.upsert_grant(db_session=uow.session, client_id=client_id, tenant=tenant, roles=roles, scopes=scopes)
    data = catalogue.ClientGranted(client_id=client_id, tenant=tenant, roles=roles, scopes=scopes, actor=actor)
    publish(uow, data, tenant=tenant, subject=client_id)


def _check_client_grant(*, uow: UnitOfWork, organisation: Organisation | None, grant: GrantIn) -> None:
    tenant = repository.get_tenant(db_session=uow.session, slug=grant.tenant)
    if tenant is None:
        raise ValidationFailed(f"Unknown tenant {grant.tenant!r}.")
    on_platform = tenant.kind == "platform"
    roles, scopes = set(grant.roles), set(grant.scopes)
    # Administration and registry reads are platform matters, held in `platform` and only there.
    if on_platform:
        admin = roles == {Role.platform_admin} and scopes <= REGISTRY_SCOPES
        reader = roles == {Role.service} and scopes == {Scope.registry_read}
        if not (admin or reader):
            raise ValidationFailed(
                "In the platform tenant a client holds platform_admin (registry scopes) or service "
                "(registry:read) only."
            )
    elif roles & {Role.platform_admin, Role.service} or scopes & REGISTRY_SCOPES:
        raise ValidationFailed("platform_admin, service and the registry scopes belong to the platform tenant.")
    if organisation is not None and not on_platform and grant.tenant not in organisation.tenants:
        raise ValidationFailed(f"The organisation {organisation.slug!r} does not work in {grant.tenant!r}.")
    partners.check_roles(organisation=organisation, roles=grant.roles, override=grant.staff_role_override)


def rotate_client_secret(*, uow: UnitOfWork, client: Client, actor: str) -> IssuedCredentials:
    """Replaces a client's secret with a fresh one; the old secret stops working at commit."""
    secret = client_secrets.new_client_secret()
    client.secret_hash = client_secrets.hash_client_secret(secret=secret)
    client.previous_secret_hash = None
    client.previous_secret_expires_at = None
    uow.session.flush()
    data = catalogue.ClientSecretRotated(client_id=client.client_id, previous_secret_valid_until=None, actor=actor)
    publish(uow, data, tenant=PLATFORM, subject=client.client_id)
    return IssuedCredentials(client_id=client.client_id, client_secret=secret)


def start_secret_rotation(
    *, uow: UnitOfWork, client_id: str, previous_valid_for_seconds: int, actor: str
) -> tuple[str, datetime | None]:
    """Issues a new secret; the current one stays valid for the given time or until finished."""
    client = get_client(uow=uow, client_id=client_id, for_update=True)
    if client.revoked_at is not None:
        raise Conflict("The client is revoked.")
    if client.secret_hash is None:
        raise Conflict("A public client has no secret.")
    secret = client_secrets.new_client_secret()
    valid_until = None
    if previous_valid_for_seconds:
        valid_until = datetime.now(UTC) + timedelta(seconds=previous_valid_for_seconds)
    client.previous_secret_hash = client.secret_hash if valid_until else None
    client.previous_secret_expires_at = valid_until
    client.secret_hash = client_secrets.hash_client_secret(secret=secret)
    uow.session.flush()
    data = catalogue.ClientSecretRotated(client_id=client_id, previous_secret_valid_until=valid_until, actor=actor)
    publish(uow, data, tenant=PLATFORM, subject=client_id)
    return secret, valid_until


def finish_secret_rotation(*, uow: UnitOfWork, client_id: str, actor: str) -> Client:
    """Ends a rotation: from now only the new secret is accepted."""
    client = get_client(uow=uow, client_id=client_id, for_update=True)
    if client.previous_secret_hash is None:
        raise Conflict("No secret rotation is under way.")
    client.previous_secret_hash = None
    client.previous_secret_expires_at = None
    uow.session.flush()
    publish(uow, catalogue.ClientSecretRotationFinished(client_id=client_id, actor=actor), tenant=PLATFORM,
            subject=client_id)
    return client


def revoke_client(*, uow: UnitOfWork, client_id: str, actor: str) -> Client:
    """Revokes a client at once: no new token is issued to it."""
    client = get_client(uow=uow, client_id=client_id, for_update=True)
    if client.revoked_at is None:
        client.revoked_at = datetime.now(UTC)
        client.previous_secret_hash = None
        client.previous_secret_expires_at = None
        uow.session.flush()
        tenants = sorted(g.tenant for g in client.grants)
        data = catalogue.ClientRevoked(client_id=client_id, tenants=tenants, actor=actor)
        publish(uow, data, tenant=PLATFORM, subject=client_id)
    return client
