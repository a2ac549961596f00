"""The admin API, `/admin/v1/...`: platform administrators manage the registry."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.orm import Session

from harambee_common.pagination import Limit
from harambee_common.problems import ValidationFailed
from harambee_gateway import agreements, identity_providers, service
from harambee_gateway.auth import PlatformAdmin, RegistrySession
from harambee_gateway.paging import after_cursor, next_cursor
from harambee_gateway.schemas import (
    AgreementChange,
    AgreementCreate,
    AgreementStatus,
    AgreementView,
    ClientCreate,
    ClientCreated,
    ClientSecret,
    ClientView,
    ExternalIdentityCreate,
    ExternalIdentityView,
    GrantIn,
    IdentityProviderIn,
    IdentityProviderView,
    OrganisationCreate,
    OrganisationUpdate,
    OrganisationView,
    Page,
    PersonCreate,
    PersonCreated,
    PersonPassword,
    PersonView,
    RoleGrant,
    SecondFactor,
    SecretRotation,
    SigningKeyView,
    TenantCreate,
    TenantUpdate,
    TenantView,
)
from harambee_gateway.secret_box import SecretBox
from harambee_gateway.signing import KeyRing

router = APIRouter(prefix="/admin/v1", tags=["admin"])


def _provider_secrets(request: Request) -> SecretBox:
    return request.app.state.provider_secrets


def _callback_url(request: Request) -> str:
    return identity_providers.callback_url(gateway_issuer=request.app.state.settings.issuer)


def _totp_secrets(request: Request) -> SecretBox:
    return request.app.state.totp_secrets


ProviderSecrets = Annotated[SecretBox, Depends(_provider_secrets)]
TotpSecrets = Annotated[SecretBox, Depends(_totp_secrets)]
CallbackUrl = Annotated[str, Depends(_callback_url)]


@router.post("/tenants", status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, admin: PlatformAdmin, db_session: RegistrySession) -> TenantView:
    """Creates a county or national tenant."""
    tenant = service.create_tenant(db_session=db_session, data=body, actor=admin.subject)
    return TenantView.model_validate(tenant)


@router.get("/tenants")
def list_tenants(
    admin: PlatformAdmin, db_session: RegistrySession, limit: Limit = 50, cursor: str | None = None
) -> Page[TenantView]:
    """Lists tenants, oldest first."""
    found = service.list_tenants(db_session=db_session, after=after_cursor(cursor), limit=limit)
    return Page[TenantView].of(found, TenantView.model_validate)


@router.get("/tenants/{slug}")
def get_tenant(slug: str, admin: PlatformAdmin, db_session: RegistrySession) -> TenantView:
    """Gets one tenant."""
    return TenantView.model_validate(service.get_tenant(db_session=db_session, slug=slug))


@router.patch("/tenants/{slug}")
def update_tenant(slug: str, body: TenantUpdate, admin: PlatformAdmin, db_session: RegistrySession) -> TenantView:
    """Renames a tenant, sets the counties a national tenant oversees, or requires a second factor."""
    tenant = service.update_tenant(db_session=db_session, slug=slug, changes=body, actor=admin.subject)
    return TenantView.model_validate(tenant)


@router.put("/tenants/{slug}/identity-provider")
def configure_identity_provider(
    slug: str,
    body: IdentityProviderIn,
    admin: PlatformAdmin,
    db_session: RegistrySession,
    box: ProviderSecrets,
    callback: CallbackUrl,
) -> IdentityProviderView:
    """Makes the tenant sign its people in through this OpenID Connect provider; register `redirect_uri` there."""
    provider = identity_providers.configure_provider(
        db_session=db_session, box=box, tenant=slug, data=body, actor=admin.subject
    )
    return IdentityProviderView.of(provider, redirect_uri=callback)


@router.get("/tenants/{slug}/identity-provider")
def get_identity_provider(
    slug: str, admin: PlatformAdmin, db_session: RegistrySession, callback: CallbackUrl
) -> IdentityProviderView:
    """The tenant's provider, without its client secret."""
    provider = identity_providers.get_provider(db_session=db_session, tenant=slug)
    return IdentityProviderView.of(provider, redirect_uri=callback)


@router.delete("/tenants/{slug}/identity-provider", status_code=status.HTTP_204_NO_CONTENT)
def remove_identity_provider(slug: str, admin: PlatformAdmin, db_session: RegistrySession) -> Response:
    """Stops trusting the tenant's provider; its people sign in with their passwords again."""
    identity_providers.remove_provider(db_session=db_session, tenant=slug, actor=admin.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/tenants/{slug}/identity-provider/links", status_code=status.HTTP_201_CREATED)
def link_external_identity(
    slug: str, body: ExternalIdentityCreate, admin: PlatformAdmin, db_session: RegistrySession
) -> ExternalIdentityView:
    """Links a subject at the tenant's provider (its subject claim's value) to a person."""
    link = identity_providers.link_identity(db_session=db_session, tenant=slug, data=body, actor=admin.subject)
    return ExternalIdentityView.model_validate(link)


@router.get("/tenants/{slug}/identity-provider/links")
def list_external_identities(
    slug: str, admin: PlatformAdmin, db_session: RegistrySession, limit: Limit = 50, cursor: str | None = None
) -> Page[ExternalIdentityView]:
    """Lists the tenant's links, oldest first."""
    found = identity_providers.list_links(db_session=db_session, tenant=slug, after=after_cursor(cursor), limit=limit)
    return Page[ExternalIdentityView].of(found, ExternalIdentityView.model_validate)


@router.delete("/tenants/{slug}/identity-provider/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
def unlink_external_identity(
    slug: str, link_id: uuid.UUID, admin: PlatformAdmin, db_session: RegistrySession
) -> Response:
    """Removes a link: that subject signs nobody in any more."""
    identity_providers.unlink_identity(db_session=db_session, tenant=slug, link_id=link_id, actor=admin.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/organisations", status_code=status.HTTP_201_CREATED)
def create_organisation(
    body: OrganisationCreate, admin: PlatformAdmin, db_session: RegistrySession
) -> OrganisationView:
    """Registers an organisation and the tenants it works in."""
    organisation = service.create_organisation(db_session=db_session, data=body, actor=admin.subject)
    return OrganisationView.model_validate(organisation)


@router.get("/organisations")
def list_organisations(
    admin: PlatformAdmin, db_session: RegistrySession, limit: Limit = 50, cursor: str | None = None
) -> Page[OrganisationView]:
    """Lists organisations, oldest first."""
    found = service.list_organisations(db_session=db_session, after=after_cursor(cursor), limit=limit)
    return Page[OrganisationView].of(found, OrganisationView.model_validate)


@router.get("/organisations/{slug}")
def get_organisation(slug: str, admin: PlatformAdmin, db_session: RegistrySession) -> OrganisationView:
    """Gets one organisation."""
    return OrganisationView.model_validate(service.get_organisation(db_session=db_session, slug=slug))


@router.patch("/organisations/{slug}")
def update_organisation(
    slug: str, body: OrganisationUpdate, admin: PlatformAdmin, db_session: RegistrySession
) -> OrganisationView:
    """Renames an organisation or changes the tenants it works in."""
    organisation = service.update_organisation(db_session=db_session, slug=slug, changes=body, actor=admin.subject)
    return OrganisationView.model_validate(organisation)


@router.post("/clients", status_code=status.HTTP_201_CREATED)
def create_client(body: ClientCreate, admin: PlatformAdmin, db_session: RegistrySession) -> ClientCreated:
    """Registers a machine client; its secret is in this response and nowhere else."""
    client, secret = service.create_client(db_session=db_session, data=body, actor=admin.subject)
    return ClientCreated.of(client, client_secret=secret)


@router.get("/clients")
def list_clients(
    admin: PlatformAdmin, db_session: RegistrySession, limit: Limit = 50, cursor: str | None = None
) -> Page[ClientView]:
    """Lists clients, oldest first."""
    found = service.list_clients(db_session=db_session, after=after_cursor(cursor), limit=limit)
    return Page[ClientView].of(found, ClientView.of)


@router.get("/clients/{client_id}")
def get_client(client_id: str, admin: PlatformAdmin, db_session: RegistrySession) -> ClientView:
    """Gets one client."""
    return ClientView.of(service.get_client(db_session=db_session, client_id=client_id))


@router.put("/clients/{client_id}/grants/{tenant}")
def set_client_grant(
    client_id: str, tenant: str, body: GrantIn, admin: PlatformAdmin, db_session: RegistrySession
) -> ClientView:
    """Sets the roles and scopes a client holds in a tenant (the body names the same tenant)."""
    if body.tenant != tenant:
        raise ValidationFailed("The body names another tenant than the path.")
    client = service.set_client_grant(db_session=db_session, client_id=client_id, grant=body, actor=admin.subject)
    return ClientView.of(client)


@router.post("/clients/{client_id}/secret/rotate")
def rotate_client_secret(
    client_id: str, admin: PlatformAdmin, db_session: RegistrySession, body: SecretRotation | None = None
) -> ClientSecret:
    """Issues a new secret; the old one keeps working until `finish` or its expiry, whichever is first."""
    body = body or SecretRotation()
    secret, until = service.start_secret_rotation(
        db_session=db_session,
        client_id=client_id,
        previous_valid_for_seconds=body.previous_valid_for_seconds,
        actor=admin.subject,
    )
    return ClientSecret(client_id=client_id, client_secret=secret, previous_secret_valid_until=until)


@router.post("/clients/{client_id}/secret/finish")
def finish_secret_rotation(client_id: str, admin: PlatformAdmin, db_session: RegistrySession) -> ClientView:
    """Ends a rotation: the previous secret stops working now."""
    client = service.finish_secret_rotation(db_session=db_session, client_id=client_id, actor=admin.subject)
    return ClientView.of(client)


@router.post("/clients/{client_id}/revoke")
def revoke_client(client_id: str, admin: PlatformAdmin, db_session: RegistrySession) -> ClientView:
    """Revokes a client at once; its tokens already issued expire on their own (they are short)."""
    return ClientView.of(service.revoke_client(db_session=db_session, client_id=client_id, actor=admin.subject))


@router.post("/people", status_code=status.HTTP_201_CREATED)
def create_person(body: PersonCreate, admin: PlatformAdmin, db_session: RegistrySession) -> PersonCreated:
    """Creates a person; a generated password is in this response and nowhere else."""
    person, generated = service.create_person(db_session=db_session, data=body, actor=admin.subject)
    return PersonCreated.of(person, initial_password=generated)


@router.get("/people")
def list_people(
    admin: PlatformAdmin, db_session: RegistrySession, limit: Limit = 50, cursor: str | None = None
) -> Page[PersonView]:
    """Lists people with their current roles, oldest first."""
    found = service.list_people(db_session=db_session, after=after_cursor(cursor), limit=limit)
    return Page[PersonView].of(found, PersonView.of)


@router.get("/people/{person_id}")
def get_person(person_id: uuid.UUID, admin: PlatformAdmin, db_session: RegistrySession) -> PersonView:
    """Gets one person."""
    return PersonView.of(service.get_person(db_session=db_session, person_id=person_id))


@router.post("/people/{person_id}/password")
def reset_password(person_id: uuid.UUID, admin: PlatformAdmin, db_session: RegistrySession) -> PersonPassword:
    """Gives a person a new generated password, in this response and nowhere else."""
    password = service.reset_password(db_session=db_session, person_id=person_id, actor=admin.subject)
    return PersonPassword(person_id=person_id, password=password)


@router.post("/people/{person_id}/second-factor")
def enrol_second_factor(
    person_id: uuid.UUID, admin: PlatformAdmin, db_session: RegistrySession, box: TotpSecrets
) -> SecondFactor:
    """Sets up a TOTP second factor; hand the secret (or its URI as a QR code) to the person once."""
    secret, uri = service.enrol_second_factor(db_session=db_session, box=box, person_id=person_id, actor=admin.subject)
    return SecondFactor(secret=secret, otpauth_uri=uri)


@router.post("/people/{person_id}/roles", status_code=status.HTTP_201_CREATED)
def grant_role(person_id: uuid.UUID, body: RoleGrant, admin: PlatformAdmin, db_session: RegistrySession) -> PersonView:
    """Gives a person a role in a tenant."""
    person = service.grant_role(
        db_session=db_session, person_id=person_id, tenant=body.tenant, role=body.role, actor=admin.subject
    )
    return PersonView.of(person)


@router.delete("/people/{person_id}/roles/{tenant}/{role}")
def revoke_role(
    person_id: uuid.UUID, tenant: str, role: str, admin: PlatformAdmin, db_session: RegistrySession
) -> PersonView:
    """Takes a role in a tenant away from a person."""
    person = service.revoke_role(
        db_session=db_session, person_id=person_id, tenant=tenant, role=role, actor=admin.subject
    )
    return PersonView.of(person)


@router.post("/agreements", status_code=status.HTTP_201_CREATED)
def create_agreement(body: AgreementCreate, admin: PlatformAdmin, db_session: RegistrySession) -> AgreementView:
    """Records a data-sharing agreement as a draft: it permits nothing until activated."""
    return agreements.create_agreement(db_session=db_session, data=body, actor=admin.subject)


@router.get("/agreements")
def list_agreements(
    admin: PlatformAdmin,
    db_session: RegistrySession,
    party: str | None = None,
    agreement_status: Annotated[AgreementStatus | None, Query(alias="status")] = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[AgreementView]:
    """Lists agreements in their current version; `party` is a slug, `tenant:slug` or `organisation:slug`."""
    return agreement_page(db_session=db_session, party=party, status=agreement_status, limit=limit, cursor=cursor)


@router.get("/agreements/{agreement_id}")
def get_agreement(agreement_id: uuid.UUID, admin: PlatformAdmin, db_session: RegistrySession) -> AgreementView:
    """Gets an agreement in its current version."""
    return agreements.get_agreement(db_session=db_session, agreement_id=agreement_id)


@router.get("/agreements/{agreement_id}/versions")
def list_agreement_versions(
    agreement_id: uuid.UUID, admin: PlatformAdmin, db_session: RegistrySession
) -> list[AgreementView]:
    """Every version of an agreement, oldest first: the record of what was agreed when."""
    return agreements.list_versions(db_session=db_session, agreement_id=agreement_id)


@router.post("/agreements/{agreement_id}/activate")
def activate_agreement(agreement_id: uuid.UUID, admin: PlatformAdmin, db_session: RegistrySession) -> AgreementView:
    """Activates a draft, or reinstates a suspended agreement."""
    return agreements.change_status(
        db_session=db_session, agreement_id=agreement_id, status="active", actor=admin.subject, reason=None
    )


@router.post("/agreements/{agreement_id}/suspend")
def suspend_agreement(
    agreement_id: uuid.UUID, body: AgreementChange, admin: PlatformAdmin, db_session: RegistrySession
) -> AgreementView:
    """Suspends an active agreement: the flows it covers stop until it is reinstated."""
    return agreements.change_status(
        db_session=db_session, agreement_id=agreement_id, status="suspended", actor=admin.subject, reason=body.reason
    )


@router.post("/agreements/{agreement_id}/terminate")
def terminate_agreement(
    agreement_id: uuid.UUID, body: AgreementChange, admin: PlatformAdmin, db_session: RegistrySession
) -> AgreementView:
    """Terminates an agreement for good."""
    return agreements.change_status(
        db_session=db_session, agreement_id=agreement_id, status="terminated", actor=admin.subject, reason=body.reason
    )


def agreement_page(
    *, db_session: Session, party: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[AgreementView]:
    """One page of agreements with the cursor to the next."""
    after = after_cursor(cursor)
    found = agreements.list_agreements(db_session=db_session, party=party, status=status, after=after, limit=limit)
    return Page[AgreementView](items=found.rows, next_cursor=next_cursor(found))


@router.get("/signing-keys")
def list_signing_keys(request: Request, admin: PlatformAdmin) -> list[SigningKeyView]:
    """The published signing keys: the one signing, those waiting to sign, those retiring."""
    ring: KeyRing = request.app.state.signing_key
    return [SigningKeyView(**k) for k in ring.describe()]


@router.post("/signing-keys", status_code=status.HTTP_201_CREATED)
def rotate_signing_key(request: Request, admin: PlatformAdmin, db_session: RegistrySession) -> SigningKeyView:
    """Makes a new signing key: published now, signing after the publication lead time."""
    ring: KeyRing = request.app.state.signing_key
    lead = request.app.state.settings.signing_key_publish_lead_seconds
    made = ring.rotate(db_session=db_session, publish_lead_seconds=lead, actor=admin.subject)
    return SigningKeyView(kid=made.key.kid, signs_from=made.signs_from, state="pending")
