"""A tenant's external OpenID Connect provider, and the links from its subjects to people."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from harambee_common.pagination import Cursor, Limit, Page
from harambee_gateway import identity_providers
from harambee_gateway.auth import PlatformAdmin
from harambee_gateway.schemas import (
    ExternalIdentityCreate,
    ExternalIdentityView,
    IdentityProviderIn,
    IdentityProviderView,
)
from harambee_gateway.secret_box import SecretBox
from harambee_gateway.unit_of_work import RegistryUnitOfWorkDep

router = APIRouter()


def _provider_secrets(request: Request) -> SecretBox:
    return request.app.state.provider_secrets


def _callback_url(request: Request, slug: str) -> str:
    return identity_providers.callback_url(gateway_issuer=request.app.state.settings.issuer, tenant=slug)


ProviderSecrets = Annotated[SecretBox, Depends(_provider_secrets)]
CallbackUrl = Annotated[str, Depends(_callback_url)]


@router.put("/tenants/{slug}/identity-provider")
def configure_identity_provider(
    slug: str,
    body: IdentityProviderIn,
    admin: PlatformAdmin,
    uow: RegistryUnitOfWorkDep,
    box: ProviderSecrets,
    callback: CallbackUrl,
) -> IdentityProviderView:
    """Makes the tenant sign its people in through this OpenID Connect provider; register `redirect_uri` there."""
    provider = identity_providers.configure_provider(uow=uow, box=box, tenant=slug, data=body, actor=admin.subject)
    return IdentityProviderView.of(provider, redirect_uri=callback)


@router.get("/tenants/{slug}/identity-provider")
def get_identity_provider(slug: str, uow: RegistryUnitOfWorkDep, callback: CallbackUrl) -> IdentityProviderView:
    """The tenant's provider, without its client secret."""
    provider = identity_providers.get_provider(uow=uow, tenant=slug)
    return IdentityProviderView.of(provider, redirect_uri=callback)


@router.delete("/tenants/{slug}/identity-provider", status_code=status.HTTP_204_NO_CONTENT)
def remove_identity_provider(slug: str, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> Response:
    """Stops trusting the tenant's provider; its people sign in with their passwords again."""
    identity_providers.remove_provider(uow=uow, tenant=slug, actor=admin.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/tenants/{slug}/identity-provider/links", status_code=status.HTTP_201_CREATED)
def link_external_identity(
    slug: str, body: ExternalIdentityCreate, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep
) -> ExternalIdentityView:
    """Links a subject at the tenant's provider (its subject claim's value) to a person."""
    link = identity_providers.link_identity(uow=uow, tenant=slug, data=body, actor=admin.subject)
    return ExternalIdentityView.model_validate(link)


@router.get("/tenants/{slug}/identity-provider/links")
def list_external_identities(
    slug: str, uow: RegistryUnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[ExternalIdentityView]:
    """Lists the tenant's links, oldest first."""
    found = identity_providers.list_links(uow=uow, tenant=slug, cursor=cursor, limit=limit)
    items = [ExternalIdentityView.model_validate(link) for link in found.rows]
    return Page[ExternalIdentityView](items=items, next_cursor=found.next_cursor)


@router.delete("/tenants/{slug}/identity-provider/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
def unlink_external_identity(
    slug: str, link_id: uuid.UUID, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep
) -> Response:
    """Removes a link: that subject signs nobody in any more."""
    identity_providers.unlink_identity(uow=uow, tenant=slug, link_id=link_id, actor=admin.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
