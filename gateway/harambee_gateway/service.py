"""The registry's logic: what a client is allowed, and how clients and secrets are issued.

Functions here never commit; the caller's unit of work does.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from harambee_common.problems import Conflict, NotFound, ValidationFailed
from harambee_gateway import credentials, repository, signin
from harambee_gateway.models import Client, Organisation, Person, PersonRole, Tenant
from harambee_gateway.not_found import or_not_found
from harambee_gateway.paging import After, Slice
from harambee_gateway.registry_events import PLATFORM, registry_event
from harambee_gateway.schemas import (
    ClientCreate,
    GrantIn,
    OrganisationCreate,
    OrganisationUpdate,
    PersonCreate,
    TenantCreate,
    TenantUpdate,
)
from harambee_gateway.secret_box import SecretBox

PLATFORM_ADMIN = "platform_admin"
SERVICE_ROLE = "service"
ADMIN_SCOPE = "registry:admin"
READ_SCOPE = "registry:read"


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
        grants=tuple(
            Grant(tenant=g.tenant, roles=tuple(g.roles), scopes=tuple(g.scopes))
            for g in sorted(client.grants, key=lambda g: g.tenant)
        ),
    )


def ensure_tenant(
    *, db_session: Session, slug: str, name: str, kind: str, actor: str, oversees: tuple[str, ...] = ()
) -> None:
    """Creates a tenant, or brings it up to date; publishes what changed."""
    existing = repository.get_tenant(db_session=db_session, slug=slug)
    if existing is None:
        tenant = Tenant(slug=slug, name=name, kind=kind, oversees=list(oversees))
        _add_and_publish(db_session=db_session, record=tenant, actor=actor)
    elif (existing.name, existing.kind, list(existing.oversees)) != (name, kind, list(oversees)):
        existing.name, existing.kind, existing.oversees = name, kind, list(oversees)
        _flush_and_publish(db_session=db_session, record=existing, actor=actor)


def ensure_organisation(
    *, db_session: Session, slug: str, name: str, kind: str, actor: str, tenants: tuple[str, ...] = ()
) -> None:
    """Creates an organisation, or brings it up to date; publishes what changed."""
    existing = repository.get_organisation_by_slug(db_session=db_session, slug=slug)
    if existing is None:
        organisation = Organisation(slug=slug, name=name, kind=kind, tenants=list(tenants))
        _add_and_publish(db_session=db_session, record=organisation, actor=actor)
    elif (existing.name, existing.kind, list(existing.tenants)) != (name, kind, list(tenants)):
        existing.name, existing.kind, existing.tenants = name, kind, list(tenants)
        _flush_and_publish(db_session=db_session, record=existing, actor=actor)


def register_client(*, db_session: Session, name: str, organisation: str | None, actor: str) -> IssuedCredentials:
    """Registers a new client under a fresh id and secret."""
    organisation_id = None
    if organisation is not None:
        org = repository.get_organisation_by_slug(db_session=db_session, slug=organisation)
        if org is None:
            raise LookupError(f"no organisation {organisation!r}")
        organisation_id = org.id
    issued = IssuedCredentials(client_id=credentials.new_client_id(), client_secret=credentials.new_client_secret())
    repository.add_client(
        db_session=db_session,
        client=Client(
            client_id=issued.client_id,
            secret_hash=credentials.hash_secret(secret=issued.client_secret),
            name=name,
            organisation_id=organisation_id,
        ),
    )
    _publish_client_event(
        db_session=db_session,
        type="client.created",
        client_id=issued.client_id,
        actor=actor,
        data={"organisation": organisation, "client_type": "confidential"},
    )
    return issued


def rotate_client_secret(*, db_session: Session, client: Client, actor: str) -> IssuedCredentials:
    """Replaces a client's secret with a fresh one; the old secret stops working at commit."""
    secret = credentials.new_client_secret()
    client.secret_hash = credentials.hash_secret(secret=secret)
    client.previous_secret_hash = None
    client.previous_secret_expires_at = None
    db_session.flush()
    _publish_client_event(
        db_session=db_session,
        type="client.secret_rotated",
        client_id=client.client_id,
        actor=actor,
        data={"previous_secret_valid_until": None},
    )
    return IssuedCredentials(client_id=client.client_id, client_secret=secret)


def set_grant(
    *, db_session: Session, client_id: str, tenant: str, roles: list[str], scopes: list[str], actor: str
) -> None:
    """Sets the roles and scopes a client holds in a tenant; publishes the change."""
    existing = repository.get_grant(db_session=db_session, client_id=client_id, tenant=tenant)
    if existing is not None and (list(existing.roles), list(existing.scopes)) == (roles, scopes):
        return
    repository.upsert_grant(db_session=db_session, client_id=client_id, tenant=tenant, roles=roles, scopes=scopes)
    repository.add_event(
        db_session=db_session,
        event=registry_event(
            type="client.granted",
            tenant=tenant,
            subject=client_id,
            actor=actor,
            data={"client_id": client_id, "tenant": tenant, "roles": roles, "scopes": scopes},
        ),
    )


def _publish_client_event(*, db_session: Session, type: str, client_id: str, actor: str, data: dict) -> None:
    repository.add_event(
        db_session=db_session,
        event=registry_event(
            type=type, tenant=PLATFORM, subject=client_id, actor=actor, data={"client_id": client_id, **data}
        ),
    )


def _add_and_publish(*, db_session: Session, record: Tenant | Organisation, actor: str) -> None:
    repository.add(db_session=db_session, row=record)
    db_session.refresh(record)
    _publish_record(db_session=db_session, record=record, change="created", actor=actor)


def _flush_and_publish(*, db_session: Session, record: Tenant | Organisation, actor: str) -> None:
    db_session.flush()
    _publish_record(db_session=db_session, record=record, change="updated", actor=actor)


def _publish_record(*, db_session: Session, record: Tenant | Organisation, change: str, actor: str) -> None:
    """Publishes a tenant or an organisation as it now stands."""
    # A tenant's events are its own; an organisation works in several tenants, so its events are the platform's.
    if isinstance(record, Tenant):
        entity, tenant = "tenant", record.slug
        extra: dict = {"oversees": list(record.oversees), "require_totp": record.require_totp}
    else:
        entity, tenant, extra = "organisation", PLATFORM, {"tenants": list(record.tenants)}
    repository.add_event(
        db_session=db_session,
        event=registry_event(
            type=f"{entity}.{change}",
            tenant=tenant,
            subject=record.slug,
            actor=actor,
            data={entity: record.slug, "name": record.name, "kind": record.kind, **extra},
        ),
    )


# --- Administration ------------------------------------------------------------------------------


def get_tenant(*, db_session: Session, slug: str) -> Tenant:
    """The tenant; NotFound when there is none."""
    return or_not_found(repository.get_tenant(db_session=db_session, slug=slug), f"No tenant {slug!r}.")


def create_tenant(*, db_session: Session, data: TenantCreate, actor: str) -> Tenant:
    """Creates a county or national tenant."""
    if repository.get_tenant(db_session=db_session, slug=data.slug) is not None:
        raise Conflict(f"A tenant {data.slug!r} exists already.")
    _check_oversight(db_session=db_session, kind=data.kind, oversees=data.oversees)
    tenant = Tenant(
        slug=data.slug, name=data.name, kind=data.kind, oversees=data.oversees, require_totp=data.require_totp
    )
    _add_and_publish(db_session=db_session, record=tenant, actor=actor)
    return tenant


def update_tenant(*, db_session: Session, slug: str, changes: TenantUpdate, actor: str) -> Tenant:
    """Renames a tenant, changes what it oversees or whether it requires a second factor."""
    tenant = get_tenant(db_session=db_session, slug=slug)
    if changes.oversees is not None:
        _check_oversight(db_session=db_session, kind=tenant.kind, oversees=changes.oversees)
        tenant.oversees = changes.oversees
    if changes.name is not None:
        tenant.name = changes.name
    if changes.require_totp is not None:
        tenant.require_totp = changes.require_totp
    _flush_and_publish(db_session=db_session, record=tenant, actor=actor)
    return tenant


def list_tenants(*, db_session: Session, after: After, limit: int) -> Slice[Tenant]:
    """A page of tenants."""
    return repository.list_tenants(db_session=db_session, after=after, limit=limit)


def _check_oversight(*, db_session: Session, kind: str, oversees: list[str]) -> None:
    if oversees and kind != "national":
        raise ValidationFailed("Only a national tenant oversees other tenants.")
    found = repository.existing_tenants(db_session=db_session, slugs=oversees)
    unknown = sorted(set(oversees) - set(found))
    if unknown:
        raise ValidationFailed(f"Unknown tenants: {', '.join(unknown)}.")
    not_county = sorted(slug for slug, t in found.items() if t.kind != "county")
    if not_county:
        raise ValidationFailed(f"A national tenant oversees county tenants only, not: {', '.join(not_county)}.")


def get_organisation(*, db_session: Session, slug: str) -> Organisation:
    """The organisation; NotFound when there is none."""
    organisation = repository.get_organisation_by_slug(db_session=db_session, slug=slug)
    return or_not_found(organisation, f"No organisation {slug!r}.")


def create_organisation(*, db_session: Session, data: OrganisationCreate, actor: str) -> Organisation:
    """Registers an organisation and the tenants it works in."""
    if repository.get_organisation_by_slug(db_session=db_session, slug=data.slug) is not None:
        raise Conflict(f"An organisation {data.slug!r} exists already.")
    _check_programme_tenants(db_session=db_session, slugs=data.tenants)
    organisation = Organisation(slug=data.slug, name=data.name, kind=data.kind, tenants=data.tenants)
    _add_and_publish(db_session=db_session, record=organisation, actor=actor)
    return organisation


def update_organisation(*, db_session: Session, slug: str, changes: OrganisationUpdate, actor: str) -> Organisation:
    """Renames an organisation or changes the tenants it works in."""
    organisation = get_organisation(db_session=db_session, slug=slug)
    if changes.tenants is not None:
        _check_programme_tenants(db_session=db_session, slugs=changes.tenants)
        organisation.tenants = changes.tenants
    if changes.name is not None:
        organisation.name = changes.name
    _flush_and_publish(db_session=db_session, record=organisation, actor=actor)
    return organisation


def list_organisations(*, db_session: Session, after: After, limit: int) -> Slice[Organisation]:
    """A page of organisations."""
    return repository.list_organisations(db_session=db_session, after=after, limit=limit)


def _check_programme_tenants(*, db_session: Session, slugs: list[str]) -> None:
    found = repository.existing_tenants(db_session=db_session, slugs=slugs)
    unknown = sorted(s for s in set(slugs) if s not in found or found[s].kind == "platform")
    if unknown:
        raise ValidationFailed(f"Unknown programme tenants: {', '.join(unknown)}.")


def get_client(*, db_session: Session, client_id: str, for_update: bool = False) -> Client:
    """The client, revoked or not; NotFound when there is none."""
    client = repository.get_client(db_session=db_session, client_id=client_id, for_update=for_update)
    return or_not_found(client, f"No client {client_id!r}.")


def create_client(*, db_session: Session, data: ClientCreate, actor: str) -> tuple[Client, str]:
    """Registers a confidential client with its grants; returns it with its secret (shown once)."""
    if repository.get_client_by_name(db_session=db_session, name=data.name) is not None:
        raise Conflict(f"A client named {data.name!r} exists already.")
    organisation = None
    if data.organisation is not None:
        organisation = repository.get_organisation_by_slug(db_session=db_session, slug=data.organisation)
        if organisation is None:
            raise ValidationFailed(f"Unknown organisation {data.organisation!r}.")
    if data.client_type == "public":
        return _create_public_client(db_session=db_session, data=data, organisation=organisation, actor=actor)
    if data.redirect_uris or data.allowed_scopes:
        raise ValidationFailed("Redirect URIs and allowed scopes are for public clients.")
    if len({g.tenant for g in data.grants}) != len(data.grants):
        raise ValidationFailed("At most one grant per tenant.")
    for grant in data.grants:
        _check_client_grant(db_session=db_session, organisation=organisation, grant=grant)
    issued = register_client(db_session=db_session, name=data.name, organisation=data.organisation, actor=actor)
    for grant in data.grants:
        set_grant(
            db_session=db_session,
            client_id=issued.client_id,
            tenant=grant.tenant,
            roles=sorted(set(grant.roles)),
            scopes=sorted(set(grant.scopes)),
            actor=actor,
        )
    db_session.expire_all()
    return get_client(db_session=db_session, client_id=issued.client_id), issued.client_secret


def _create_public_client(
    *, db_session: Session, data: ClientCreate, organisation: Organisation | None, actor: str
) -> tuple[Client, None]:
    """A single-page app: no secret, exact redirect URIs, and the most its people's tokens may hold."""
    if data.grants:
        raise ValidationFailed("A public client acts for the person signed in; it holds no grants.")
    if not data.redirect_uris or not data.allowed_scopes:
        raise ValidationFailed("A public client needs its redirect URIs and the scopes it may ask for.")
    for uri in data.redirect_uris:
        _check_redirect_uri(uri)
    if ADMIN_SCOPE in data.allowed_scopes or READ_SCOPE in data.allowed_scopes:
        raise ValidationFailed("The registry scopes are not for single-page apps.")
    client = Client(
        client_id=credentials.new_client_id(),
        secret_hash=None,
        name=data.name,
        organisation_id=organisation.id if organisation else None,
        client_type="public",
        redirect_uris=list(data.redirect_uris),
        allowed_scopes=sorted(set(data.allowed_scopes)),
    )
    repository.add_client(db_session=db_session, client=client)
    _publish_client_event(
        db_session=db_session,
        type="client.created",
        client_id=client.client_id,
        actor=actor,
        data={
            "organisation": data.organisation,
            "client_type": "public",
            "redirect_uris": list(data.redirect_uris),
            "allowed_scopes": sorted(set(data.allowed_scopes)),
        },
    )
    db_session.expire_all()
    return get_client(db_session=db_session, client_id=client.client_id), None


def browser_origins(*, db_session: Session, client_id: str) -> frozenset[str]:
    """The web origins a public client's pages run on (those of its redirect URIs), for CORS."""
    client = repository.get_active_client(db_session=db_session, client_id=client_id)
    if client is None or client.client_type != "public":
        return frozenset()
    return frozenset(f"{u.scheme}://{u.netloc}" for u in map(urlsplit, client.redirect_uris))


def _check_redirect_uri(uri: str) -> None:
    """Exact, absolute, https (plain http on the loopback interface only, for development)."""
    parsed = urlsplit(uri)
    loopback = parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if not (parsed.scheme == "https" or loopback) or not parsed.hostname or parsed.fragment:
        raise ValidationFailed(f"{uri!r} is not an https URL without a fragment (or an http loopback one).")


def set_client_grant(*, db_session: Session, client_id: str, grant: GrantIn, actor: str) -> Client:
    """Sets the roles and scopes an active client holds in one tenant."""
    client = get_client(db_session=db_session, client_id=client_id)
    if client.revoked_at is not None:
        raise Conflict("The client is revoked.")
    if client.client_type == "public":
        raise ValidationFailed("A public client acts for the person signed in; it holds no grants.")
    _check_client_grant(db_session=db_session, organisation=client.organisation, grant=grant)
    set_grant(
        db_session=db_session,
        client_id=client_id,
        tenant=grant.tenant,
        roles=sorted(set(grant.roles)),
        scopes=sorted(set(grant.scopes)),
        actor=actor,
    )
    db_session.expire_all()
    return get_client(db_session=db_session, client_id=client_id)


def _check_client_grant(*, db_session: Session, organisation: Organisation | None, grant: GrantIn) -> None:
    tenant = repository.get_tenant(db_session=db_session, slug=grant.tenant)
    if tenant is None:
        raise ValidationFailed(f"Unknown tenant {grant.tenant!r}.")
    on_platform = tenant.kind == "platform"
    roles, scopes = set(grant.roles), set(grant.scopes)
    # Administration and registry reads are platform matters, held in `platform` and only there.
    if on_platform:
        admin = roles == {PLATFORM_ADMIN} and scopes <= {ADMIN_SCOPE, READ_SCOPE}
        reader = roles == {SERVICE_ROLE} and scopes == {READ_SCOPE}
        if not (admin or reader):
            raise ValidationFailed(
                "In the platform tenant a client holds platform_admin (registry scopes) or service "
                "(registry:read) only."
            )
    elif roles & {PLATFORM_ADMIN, SERVICE_ROLE} or scopes & {ADMIN_SCOPE, READ_SCOPE}:
        raise ValidationFailed("platform_admin, service and the registry scopes belong to the platform tenant.")
    if organisation is not None and not on_platform and grant.tenant not in organisation.tenants:
        raise ValidationFailed(f"The organisation {organisation.slug!r} does not work in {grant.tenant!r}.")


def start_secret_rotation(
    *, db_session: Session, client_id: str, previous_valid_for_seconds: int, actor: str
) -> tuple[str, datetime | None]:
    """Issues a new secret; the current one stays valid for the given time or until finished."""
    client = get_client(db_session=db_session, client_id=client_id, for_update=True)
    if client.revoked_at is not None:
        raise Conflict("The client is revoked.")
    if client.secret_hash is None:
        raise Conflict("A public client has no secret.")
    secret = credentials.new_client_secret()
    until = datetime.now(UTC) + timedelta(seconds=previous_valid_for_seconds)
    if previous_valid_for_seconds:
        client.previous_secret_hash = client.secret_hash
        client.previous_secret_expires_at = until
    else:
        client.previous_secret_hash = None
        client.previous_secret_expires_at = None
    client.secret_hash = credentials.hash_secret(secret=secret)
    db_session.flush()
    valid_until = until if previous_valid_for_seconds else None
    _publish_client_event(
        db_session=db_session,
        type="client.secret_rotated",
        client_id=client_id,
        actor=actor,
        data={"previous_secret_valid_until": valid_until.isoformat() if valid_until else None},
    )
    return secret, valid_until


def finish_secret_rotation(*, db_session: Session, client_id: str, actor: str) -> Client:
    """Ends a rotation: from now only the new secret is accepted."""
    client = get_client(db_session=db_session, client_id=client_id, for_update=True)
    if client.previous_secret_hash is None:
        raise Conflict("No secret rotation is under way.")
    client.previous_secret_hash = None
    client.previous_secret_expires_at = None
    db_session.flush()
    _publish_client_event(
        db_session=db_session,
        type="client.secret_rotation_finished",
        client_id=client_id,
        actor=actor,
        data={},
    )
    return client


def revoke_client(*, db_session: Session, client_id: str, actor: str) -> Client:
    """Revokes a client at once: no new token is issued to it."""
    client = get_client(db_session=db_session, client_id=client_id, for_update=True)
    if client.revoked_at is None:
        client.revoked_at = datetime.now(UTC)
        client.previous_secret_hash = None
        client.previous_secret_expires_at = None
        db_session.flush()
        _publish_client_event(
            db_session=db_session,
            type="client.revoked",
            client_id=client_id,
            actor=actor,
            data={"tenants": sorted(g.tenant for g in client.grants)},
        )
    return client


def list_clients(*, db_session: Session, after: After, limit: int) -> Slice[Client]:
    """A page of clients."""
    return repository.list_clients(db_session=db_session, after=after, limit=limit)


def get_person(*, db_session: Session, person_id: uuid.UUID) -> Person:
    """The person; NotFound when there is none."""
    return or_not_found(repository.get_person(db_session=db_session, person_id=person_id), "No such person.")


def create_person(*, db_session: Session, data: PersonCreate, actor: str) -> tuple[Person, str | None]:
    """Creates a person; returns them with the generated password when none was given."""
    if repository.get_person_by_username(db_session=db_session, username=data.username) is not None:
        raise Conflict("That username is taken.")
    organisation_id = None
    if data.organisation is not None:
        organisation_id = get_organisation_or_invalid(db_session=db_session, slug=data.organisation).id
    generated = None if data.password else secrets.token_urlsafe(18)
    person = Person(
        id=uuid.uuid4(),
        username=data.username,
        display_name=data.display_name,
        password_hash=credentials.hash_secret(secret=data.password or generated or ""),
        organisation_id=organisation_id,
    )
    repository.add(db_session=db_session, row=person)
    # Events name a person by id only: never a username, name or contact detail.
    repository.add_event(
        db_session=db_session,
        event=registry_event(
            type="person.created",
            tenant=PLATFORM,
            subject=str(person.id),
            actor=actor,
            data={"person_id": str(person.id), "organisation": data.organisation},
        ),
    )
    db_session.expire_all()
    return get_person(db_session=db_session, person_id=person.id), generated


def get_organisation_or_invalid(*, db_session: Session, slug: str) -> Organisation:
    """The organisation named in a request body; an unknown one makes the request invalid."""
    organisation = repository.get_organisation_by_slug(db_session=db_session, slug=slug)
    if organisation is None:
        raise ValidationFailed(f"Unknown organisation {slug!r}.")
    return organisation


def grant_role(*, db_session: Session, person_id: uuid.UUID, tenant: str, role: str, actor: str) -> Person:
    """Gives a person a role in a tenant."""
    person = get_person(db_session=db_session, person_id=person_id)
    found = repository.get_tenant(db_session=db_session, slug=tenant)
    if found is None:
        raise ValidationFailed(f"Unknown tenant {tenant!r}.")
    if (found.kind == "platform") != (role == PLATFORM_ADMIN):
        raise ValidationFailed("platform_admin is held in the platform tenant, and only it is.")
    if role == "national_coordinator" and found.kind != "national":
        raise ValidationFailed("national_coordinator is a role in a national tenant.")
    if repository.get_current_role(db_session=db_session, person_id=person_id, tenant=tenant, role=role):
        raise Conflict("The person holds that role in that tenant already.")
    repository.add(db_session=db_session, row=PersonRole(person_id=person.id, tenant=tenant, role=role))
    _publish_role(
        db_session=db_session, type="role.granted", person_id=person_id, tenant=tenant, role=role, actor=actor
    )
    db_session.expire_all()
    return get_person(db_session=db_session, person_id=person_id)


def revoke_role(*, db_session: Session, person_id: uuid.UUID, tenant: str, role: str, actor: str) -> Person:
    """Takes a role in a tenant away from a person."""
    get_person(db_session=db_session, person_id=person_id)
    held = repository.get_current_role(db_session=db_session, person_id=person_id, tenant=tenant, role=role)
    if held is None:
        raise NotFound("The person does not hold that role in that tenant.")
    held.revoked_at = datetime.now(UTC)
    db_session.flush()
    _publish_role(
        db_session=db_session, type="role.revoked", person_id=person_id, tenant=tenant, role=role, actor=actor
    )
    db_session.expire_all()
    return get_person(db_session=db_session, person_id=person_id)


def _publish_role(*, db_session: Session, type: str, person_id: uuid.UUID, tenant: str, role: str, actor: str) -> None:
    repository.add_event(
        db_session=db_session,
        event=registry_event(
            type=type,
            tenant=tenant,
            subject=str(person_id),
            actor=actor,
            data={"person_id": str(person_id), "tenant": tenant, "role": role},
        ),
    )


def reset_password(*, db_session: Session, person_id: uuid.UUID, actor: str) -> str:
    """Gives a person a fresh generated password (returned once) and clears any lockout."""
    person = get_person(db_session=db_session, person_id=person_id)
    password = secrets.token_urlsafe(18)
    person.password_hash = credentials.hash_secret(secret=password)
    person.failed_sign_ins = 0
    person.locked_until = None
    db_session.flush()
    _publish_person(db_session=db_session, type="person.password_reset", person_id=person_id, actor=actor)
    return password


def enrol_second_factor(
    *, db_session: Session, box: SecretBox, person_id: uuid.UUID, actor: str
) -> tuple[str, str]:
    """Gives a person a new TOTP secret, stored sealed with box; returns it and its otpauth URI (shown once)."""
    secret, uri = signin.enrol_totp(db_session=db_session, box=box, person_id=person_id)
    _publish_person(db_session=db_session, type="person.second_factor_enrolled", person_id=person_id, actor=actor)
    return secret, uri


def _publish_person(*, db_session: Session, type: str, person_id: uuid.UUID, actor: str) -> None:
    repository.add_event(
        db_session=db_session,
        event=registry_event(
            type=type, tenant=PLATFORM, subject=str(person_id), actor=actor, data={"person_id": str(person_id)}
        ),
    )


def list_people(*, db_session: Session, after: After, limit: int) -> Slice[Person]:
    """A page of people."""
    return repository.list_people(db_session=db_session, after=after, limit=limit)
