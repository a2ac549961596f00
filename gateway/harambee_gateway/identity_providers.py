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
from sqlalchemy.orm import Session

from harambee_common.problems import Conflict, ValidationFailed
from harambee_gateway import repository, service
from harambee_gateway.models import ExternalIdentity, IdentityProvider
from harambee_gateway.not_found import or_not_found
from harambee_gateway.paging import After, Slice
from harambee_gateway.registry_events import registry_event
from harambee_gateway.schemas import ExternalIdentityCreate, IdentityProviderIn
from harambee_gateway.secret_box import SecretBox

SECRET_PURPOSE = b"harambee gateway identity provider client secrets"
CALLBACK_PATH = "/oauth/external/callback"
DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERY_TIMEOUT_SECONDS = 10.0
DISCOVERY_MAX_BYTES = 256 * 1024
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def secret_box(bootstrap_pem: bytes) -> SecretBox:
    """The box that seals providers' client secrets, keyed from the gateway's bootstrap key."""
    return SecretBox(bootstrap_pem, purpose=SECRET_PURPOSE)


def callback_url(*, gateway_issuer: str) -> str:
    """Where providers send people back to: the redirect URI to register at every provider."""
    return gateway_issuer.rstrip("/") + CALLBACK_PATH


def normalised_subject(*, claim: str, value: str) -> str:
    """A subject as links store it: trimmed; an email address in lower case."""
    value = value.strip()
    return value.lower() if claim == "email" else value


def get_provider(*, db_session: Session, tenant: str) -> IdentityProvider:
    """The tenant's provider; NotFound when the tenant or its provider does not exist."""
    service.get_tenant(db_session=db_session, slug=tenant)
    provider = repository.get_identity_provider(db_session=db_session, tenant=tenant)
    return or_not_found(provider, f"The tenant {tenant!r} has no external identity provider.")


def configure_provider(
    *, db_session: Session, box: SecretBox, tenant: str, data: IdentityProviderIn, actor: str
) -> IdentityProvider:
    """Sets the tenant's provider, discovering the endpoints not given; publishes the change."""
    _check_url("issuer", data.issuer)
    if urlsplit(data.issuer).query:
        raise ValidationFailed("The issuer has no query part.")
    scopes = _scopes(data)
    endpoints = {name: getattr(data, name) for name in ENDPOINTS}
    if not all(endpoints.values()):
        # Before the first query: the session takes a database connection only then, so none is
        # held while the provider answers.
        discovered = discover(issuer=data.issuer)
        endpoints = {name: endpoints[name] or discovered.get(name) for name in ENDPOINTS}
        missing = [name for name, value in endpoints.items() if not isinstance(value, str) or not value]
        if missing:
            raise ValidationFailed(f"The provider's discovery document lacks {', '.join(missing)}.")
    for name, url in endpoints.items():
        _check_url(name, url)
    if service.get_tenant(db_session=db_session, slug=tenant).kind == "platform":
        raise ValidationFailed("Platform administrators sign in to the gateway itself, not through a provider.")
    existing = repository.get_identity_provider(db_session=db_session, tenant=tenant, for_update=True)
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
    provider.updated_at = datetime.now(UTC)
    if existing is None:
        repository.add(db_session=db_session, row=provider)
    db_session.flush()
    db_session.refresh(provider)
    repository.add_event(
        db_session=db_session,
        event=registry_event(
            type="identity_provider.configured",
            tenant=tenant,
            subject=tenant,
            actor=actor,
            # The issuer and claim name are configuration, not secrets; the client secret never leaves.
            data={
                "tenant": tenant,
                "issuer": provider.issuer,
                "subject_claim": provider.subject_claim,
                "client_secret_changed": data.client_secret is not None,
            },
        ),
    )
    return provider


def remove_provider(*, db_session: Session, tenant: str, actor: str) -> None:
    """Stops trusting the tenant's provider: its people sign in with passwords again."""
    provider = get_provider(db_session=db_session, tenant=tenant)
    repository.delete(db_session=db_session, row=provider)
    repository.add_event(
        db_session=db_session,
        event=registry_event(
            type="identity_provider.removed", tenant=tenant, subject=tenant, actor=actor, data={"tenant": tenant}
        ),
    )


def link_identity(*, db_session: Session, tenant: str, data: ExternalIdentityCreate, actor: str) -> ExternalIdentity:
    """Links a subject at the tenant's provider to a person; publishes the link by reference."""
    provider = get_provider(db_session=db_session, tenant=tenant)
    if repository.get_person(db_session=db_session, person_id=data.person_id) is None:
        raise ValidationFailed("No such person.")
    claim = provider.subject_claim
    subject = normalised_subject(claim=claim, value=data.subject)
    if repository.find_external_identity(
        db_session=db_session, tenant=tenant, issuer=provider.issuer, claim=claim, subject=subject
    ):
        raise Conflict("That subject is linked to someone already.")
    if repository.find_external_identity_of_person(
        db_session=db_session, tenant=tenant, issuer=provider.issuer, claim=claim, person_id=data.person_id
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
    repository.add(db_session=db_session, row=link)
    db_session.refresh(link)
    _publish_link(db_session=db_session, type="external_identity.linked", link=link, actor=actor)
    return link


def list_links(*, db_session: Session, tenant: str, after: After, limit: int) -> Slice[ExternalIdentity]:
    """A page of the tenant's links, oldest first."""
    service.get_tenant(db_session=db_session, slug=tenant)
    return repository.list_external_identities(db_session=db_session, tenant=tenant, after=after, limit=limit)


def unlink_identity(*, db_session: Session, tenant: str, link_id: uuid.UUID, actor: str) -> None:
    """Removes a link: that subject no longer signs anyone in."""
    link = repository.get_external_identity(db_session=db_session, tenant=tenant, link_id=link_id)
    link = or_not_found(link, "No such link.")
    repository.delete(db_session=db_session, row=link)
    _publish_link(db_session=db_session, type="external_identity.unlinked", link=link, actor=actor)


def _publish_link(*, db_session: Session, type: str, link: ExternalIdentity, actor: str) -> None:
    # The subject itself is left out: at many providers it is the person's email address.
    repository.add_event(
        db_session=db_session,
        event=registry_event(
            type=type,
            tenant=link.tenant,
            subject=str(link.person_id),
            actor=actor,
            data={"tenant": link.tenant, "person_id": str(link.person_id), "link_id": str(link.id)},
        ),
    )


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
