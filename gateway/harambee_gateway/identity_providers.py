"""A tenant's external OpenID Connect provider, and the links from its subjects to Harambee people.

A county whose staff are in its own directory configures that directory here; from then on its
people sign in there (see external_signin), and a role in that tenant is conferred only by such a
sign-in. Nobody is provisioned from a provider: an administrator links each subject to a person.

Functions here never commit; the caller's unit of work does.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from harambee_common.catalogue import registry as catalogue
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, ValidationFailed, or_not_found
from harambee_gateway import repository
from harambee_gateway.events import publish
from harambee_gateway.models import ExternalIdentity, IdentityProvider
from harambee_gateway.schemas import ExternalIdentityCreate, IdentityProviderIn
from harambee_gateway.secret_box import SecretBox
from harambee_gateway.tenants import get_tenant

SECRET_PURPOSE = b"harambee gateway identity provider client secrets"
# One callback per directory (its tenant in the path): an answer comes back only where its directory's
# sign-ins return, so one directory's code cannot be passed off at another's callback (RFC 9207 §1, mix-up).
CALLBACK_PATH = "/oauth/external/callback/{tenant}"
DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERY_TIMEOUT_SECONDS = 10.0
DISCOVERY_MAX_BYTES = 256 * 1024
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def secret_box(key_encryption_key: bytes, retired: tuple[bytes, ...] = ()) -> SecretBox:
    """The box that seals providers' client secrets, keyed from the gateway's key-encryption key."""
    return SecretBox(key_encryption_key, purpose=SECRET_PURPOSE, retired=retired)


def callback_url(*, gateway_issuer: str, tenant: str) -> str:
    """Where the tenant's provider sends people back to: the redirect URI to register at that provider."""
    return gateway_issuer.rstrip("/") + CALLBACK_PATH.format(tenant=tenant)


def normalised_subject(*, claim: str, value: str) -> str:
    """A subject as links store it: trimmed; an email address in lower case."""
    value = value.strip()
    return value.lower() if claim == "email" else value


def get_provider(*, uow: UnitOfWork, tenant: str) -> IdentityProvider:
    """The tenant's provider; NotFound when the tenant or its provider does not exist."""
    get_tenant(uow=uow, slug=tenant)
    provider = repository.get_identity_provider(db_session=uow.session, tenant=tenant)
    return or_not_found(provider, f"The tenant {tenant!r} has no external identity provider.")


def configure_provider(
    *, uow: UnitOfWork, box: SecretBox, tenant: str, data: IdentityProviderIn, actor: str
) -> IdentityProvider:
    """Sets the tenant's provider, discovering the endpoints not given; publishes the change."""
    _check_url("issuer", data.issuer)
    if urlsplit(data.issuer).query:
        raise ValidationFailed("The issuer has no query part.")
    scopes = _scopes(data)
    endpoints = {name: getattr(data, name) for name in ENDPOINTS}
    iss_parameter = data.authorization_response_iss_parameter_supported
    if not all(endpoints.values()) or iss_parameter is None:
        # Before the first query: the session takes a database connection only then, so none is
        # held while the provider answers.
        discovered = discover(issuer=data.issuer)
        endpoints = {name: endpoints[name] or discovered.get(name) for name in ENDPOINTS}
        if iss_parameter is None:  # RFC 9207 §3: the directory says whether its answers name it
            iss_parameter = discovered.get("authorization_response_iss_parameter_supported") is True
        missing = [name for name, value in endpoints.items() if not isinstance(value, str) or not value]
        if missing:
            raise ValidationFailed(f"The provider's discovery document lacks {', '.join(missing)}.")
    for name, url in endpoints.items():
        _check_url(name, url)
    if get_tenant(uow=uow, slug=tenant).kind == "platform":
        raise ValidationFailed("Platform administrators sign in to the gateway itself, not through a provider.")
    existing = repository.get_identity_provider(db_session=uow.session, tenant=tenant, for_update=True)
    if existing is None and data.client_secret is None:
        raise ValidationFailed("A client_secret is required when a provider is first configured.")
    provider = existing or IdentityProvider(tenant=tenant)
    provider.issuer = data.issuer
    provider.client_id = data.client_id
    if data.client_secret is not None:
        provider.encrypted_client_secret = box.seal(data.client_secret, bound_to=tenant)
    provider.token_endpoint_auth_method = data.token_endpoint_auth_method
    provider.authorization_endpoint = endpoints["authorization_endpoint"]
    provider.token_endpoint = endpoints["token_endpoint"]
    provider.jwks_uri = endpoints["jwks_uri"]
    provider.scopes = scopes
    provider.subject_claim = data.subject_claim
    provider.require_verified_email = data.require_verified_email
    provider.authorization_response_iss_parameter_supported = bool(iss_parameter)
    provider.updated_at = datetime.now(UTC)
    if existing is None:
        repository.add(db_session=uow.session, row=provider)
    uow.session.flush()
    uow.session.refresh(provider)
    # The issuer and claim name are configuration, not secrets; the client secret never leaves.
    configured = catalogue.IdentityProviderConfigured(
        tenant=tenant,
        issuer=provider.issuer,
        subject_claim=provider.subject_claim,
        client_secret_changed=data.client_secret is not None,
        actor=actor,
    )
    publish(uow, configured, tenant=tenant, subject=tenant)
    return provider


def remove_provider(*, uow: UnitOfWork, tenant: str, actor: str) -> None:
    """Stops trusting the tenant's provider: its people sign in with passwords again."""
    provider = get_provider(uow=uow, tenant=tenant)
    repository.delete(db_session=uow.session, row=provider)
    publish(uow, catalogue.IdentityProviderRemoved(tenant=tenant, actor=actor), tenant=tenant, subject=tenant)


def link_identity(*, uow: UnitOfWork, tenant: str, data: ExternalIdentityCreate, actor: str) -> ExternalIdentity:
    """Links a subject at the tenant's provider to a person; publishes the link by reference."""
    provider = get_provider(uow=uow, tenant=tenant)
    if repository.get_person(db_session=uow.session, person_id=data.person_id) is None:
        raise ValidationFailed("No such person.")
    claim = provider.subject_claim
    subject = normalised_subject(claim=claim, value=data.subject)
    if repository.find_external_identity(
        db_session=uow.session, tenant=tenant, issuer=provider.issuer, claim=claim, subject=subject
    ):
        raise Conflict("That subject is linked to someone already.")
    if repository.find_external_identity_of_person(
        db_session=uow.session, tenant=tenant, issuer=provider.issuer, claim=claim, person_id=data.person_id
    ):
        raise Conflict("That person is linked to another subject at this provider already.")
    link = ExternalIdentity(
        id=uuid.uuid4(),
        tenant=tenant,
        issuer=provider.issuer,
        claim=claim,
        subject=subject,
        person_id=data.person_id,
        created_by=actor,
    )
    repository.add(db_session=uow.session, row=link)
    uow.session.refresh(link)
    _publish_link(uow=uow, event=catalogue.ExternalIdentityLinked, link=link, actor=actor)
    return link


def list_links(*, uow: UnitOfWork, tenant: str, cursor: str | None, limit: int) -> Slice[ExternalIdentity]:
    """A page of the tenant's links, oldest first."""
    get_tenant(uow=uow, slug=tenant)
    return repository.list_external_identities(db_session=uow.session, tenant=tenant, cursor=cursor, limit=limit)


def unlink_identity(*, uow: UnitOfWork, tenant: str, link_id: uuid.UUID, actor: str) -> None:
    """Removes a link: that subject no longer signs anyone in."""
    link = repository.get_external_identity(db_session=uow.session, tenant=tenant, link_id=link_id)
    link = or_not_found(link, "No such link.")
    repository.delete(db_session=uow.session, row=link)
    _publish_link(uow=uow, event=catalogue.ExternalIdentityUnlinked, link=link, actor=actor)


def _publish_link(
    *,
    uow: UnitOfWork,
    event: type[catalogue.ExternalIdentityLinked | catalogue.ExternalIdentityUnlinked],
    link: ExternalIdentity,
    actor: str,
) -> None:
    # The subject itself is left out: at many providers it is the person's email address.
    data = event(tenant=link.tenant, person_id=link.person_id, link_id=link.id, actor=actor)
    publish(uow, data, tenant=link.tenant, subject=str(link.person_id))


def discover(*, issuer: str) -> dict[str, Any]:
    """The provider's OpenID Connect discovery document, checked to name the same issuer."""
    url = issuer.rstrip("/") + DISCOVERY_PATH
    try:
        response = httpx.get(url, timeout=DISCOVERY_TIMEOUT_SECONDS, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise ValidationFailed(f"The provider's discovery document could not be fetched from {url}.") from exc
    if response.status_code != 200 or len(response.content) > DISCOVERY_MAX_BYTES:
        raise ValidationFailed(f"The provider answered {response.status_code} for its discovery document at {url}.")
    try:
        document = response.json()
    except ValueError as exc:
        raise ValidationFailed("The provider's discovery document is not JSON.") from exc
    if not isinstance(document, dict):
        raise ValidationFailed("The provider's discovery document is not a JSON object.")
    # OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer it was fetched for.
    if document.get("issuer") != issuer:
        raise ValidationFailed("The provider's discovery document names another issuer.")
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise ValidationFailed("The provider does not support PKCE with S256.")
    return document


def _scopes(data: IdentityProviderIn) -> list[str]:
    if data.scopes is None:
        return ["openid", "email"] if data.subject_claim == "email" else ["openid"]
    scopes = list(dict.fromkeys(data.scopes))
    if "openid" not in scopes:
        raise ValidationFailed("The scopes must include openid.")
    return scopes


def _check_url(name: str, url: str) -> None:
    """Absolute https without a fragment (plain http on the loopback interface only, for development)."""
    parsed = urlsplit(url)
    loopback = parsed.scheme == "http" and parsed.hostname in LOOPBACK
    if not (parsed.scheme == "https" or loopback) or not parsed.hostname or parsed.fragment:
        raise ValidationFailed(f"The {name} must be an https URL without a fragment (or an http loopback one).")
