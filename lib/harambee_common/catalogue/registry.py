"""Events published on `registry.events` by the gateway: its registry, agreements and sign-ins.

Which tenant an event belongs to decides its Kafka key, and so the order consumers see: a tenant's
own events and grants carry that tenant; clients, organisations and people, which span tenants,
carry `platform`; an agreement always carries the tenant that discloses the data, so every version
of one agreement stays in order. References and terms only: never a secret, a username or a name
of a person.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from harambee_common.catalogue.base import EventData, event_type
from harambee_common.permissions import ClientRoleName, PersonRoleName, ScopeName

TOPIC = "registry.events"

TenantKind = Literal["county", "national", "platform"]
OrganisationKind = Literal["cso", "agency", "programme", "provider"]
ClientType = Literal["confidential", "public"]
# What an agreement may permit: the operations services ask about (harambee_common.agreements).
Operation = Literal[
    "submit_referrals",
    "read_referral_status",
    "read_case_summary",
    "read_assessments",
    "record_intervention_sessions",
    "read_intervention_tasks",
    "read_aggregates",
    "read_audit_log",
    "transfer_cases",
    # An organisation receives a county's information requests about a case and answers them (assessment).
    "information_requests",
]
LawfulBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_interest",
    "legitimate_interests",
]
AgreementStatus = Literal["draft", "active", "suspended", "expired", "terminated"]
PartyKind = Literal["tenant", "organisation"]
PartyRole = Literal["controller", "processor", "recipient"]
RetentionEnd = Literal["delete", "anonymise", "return"]


class _Terms(BaseModel):
    """A part of an agreement's terms."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RegistryChange(EventData):
    """A change an administrator (or the gateway itself) made to the registry."""

    actor: str
    """Who made it: the administrator token's subject, or the gateway job's name."""


# --- tenants and organisations -------------------------------------------------------------------


class _TenantState(RegistryChange):
    """A tenant as it stands after the change."""

    tenant: str
    """The tenant's slug."""
    name: str
    """The programme's name (an institution's, never a person's)."""
    kind: TenantKind
    """County, national, or the platform itself."""
    oversees: list[str]
    """The county tenants a national tenant oversees."""
    require_totp: bool
    """Whether its people must sign in with a second factor."""


@event_type("tenant.created", topic=TOPIC)
class TenantCreated(_TenantState):
    """A tenant (a county or national programme, or the platform) was created."""


@event_type("tenant.updated", topic=TOPIC)
class TenantUpdated(_TenantState):
    """A tenant was renamed, or changed what it oversees or whether it requires a second factor."""


class _OrganisationState(RegistryChange):
    """An organisation as it stands after the change."""

    organisation: str
    """The organisation's slug."""
    name: str
    """The organisation's name."""
    kind: OrganisationKind
    """A CSO, an agency, a programme or an intervention provider."""
    tenants: list[str]
    """The tenants it works in."""


@event_type("organisation.created", topic=TOPIC)
class OrganisationCreated(_OrganisationState):
    """An organisation was registered."""


@event_type("organisation.updated", topic=TOPIC)
class OrganisationUpdated(_OrganisationState):
    """An organisation was renamed or changed the tenants it works in."""


# --- clients -------------------------------------------------------------------------------------


class _ClientChange(RegistryChange):
    """A change to an OAuth2 client."""

    client_id: str
    """The client."""


@event_type("client.created", topic=TOPIC)
class ClientCreated(_ClientChange):
    """A client was registered: a confidential machine client, or a public single-page app."""

    organisation: str | None
    """The organisation it acts for, if any."""
    client_type: ClientType
    """Confidential (a secret) or public (PKCE, people sign in through it)."""
    redirect_uris: list[str] | None = None
    """Where sign-in may return to (public clients only)."""
    allowed_scopes: list[ScopeName] | None = None
    """The most its people's tokens may hold (public clients only)."""

    def dump(self) -> dict[str, Any]:
        """The data, with the public-client fields only on a public client."""
        data = super().dump()
        if self.client_type != "public":
            del data["redirect_uris"], data["allowed_scopes"]
        return data


@event_type("client.granted", topic=TOPIC)
class ClientGranted(_ClientChange):
    """A client's roles and scopes in one tenant were set."""

    tenant: str
    """The tenant of the grant."""
    roles: list[ClientRoleName]
    """The roles it holds there now."""
    scopes: list[ScopeName]
    """The scopes it holds there now."""


@event_type("client.secret_rotated", topic=TOPIC)
class ClientSecretRotated(_ClientChange):
    """A client was given a new secret (never in the event)."""

    previous_secret_valid_until: datetime | None
    """Until when the previous secret still works; null when it stopped at once."""


@event_type("client.secret_rotation_finished", topic=TOPIC)
class ClientSecretRotationFinished(_ClientChange):
    """A rotation ended: only the new secret works from now."""


@event_type("client.revoked", topic=TOPIC)
class ClientRevoked(_ClientChange):
    """A client was revoked: no new token is issued to it."""

    tenants: list[str]
    """The tenants it held grants in."""


@event_type("partner.staff_role_allowed", topic=TOPIC)
class PartnerStaffRoleAllowed(RegistryChange):
    """A partner organisation's client or person was given a staff role by an administrator's override.

    Partners (CSOs, agencies, providers) reach a county's data under agreements only; a staff role
    bypasses them, so each exception is on record with its reason.
    """

    tenant: str
    """The tenant of the role."""
    organisation: str
    """The partner organisation."""
    roles: list[ClientRoleName]
    """The staff roles allowed by the override."""
    client_id: str | None
    """The client given them, if a client."""
    person_id: uuid.UUID | None
    """The person given them, if a person."""
    reason: str
    """Why the administrator allowed it."""


# --- people --------------------------------------------------------------------------------------


class _PersonChange(RegistryChange):
    """A change to a person who signs in (named by id only)."""

    person_id: uuid.UUID
    """The person."""


@event_type("person.created", topic=TOPIC)
class PersonCreated(_PersonChange):
    """A person was created."""

    organisation: str | None
    """The organisation they work for, if any."""


@event_type("person.password_reset", topic=TOPIC)
class PersonPasswordReset(_PersonChange):
    """A person was given a new generated password (never in the event)."""


@event_type("person.second_factor_enrolled", topic=TOPIC)
class PersonSecondFactorEnrolled(_PersonChange):
    """A person was given a new TOTP second factor (never in the event)."""


class _RoleChange(_PersonChange):
    """A role a person holds in one tenant."""

    tenant: str
    """The tenant."""
    role: PersonRoleName
    """The role."""


@event_type("role.granted", topic=TOPIC)
class RoleGranted(_RoleChange):
    """A person was given a role in a tenant."""


@event_type("role.revoked", topic=TOPIC)
class RoleRevoked(_RoleChange):
    """A person's role in a tenant was taken away."""


# --- data-sharing agreements ---------------------------------------------------------------------


class AgreementPartyTerms(_Terms):
    """A party to an agreement: a tenant or an organisation, its role, and its lawful basis."""

    kind: PartyKind
    """A tenant or an organisation."""
    id: str
    """Its slug."""
    role: PartyRole
    """Controller (discloses), processor or recipient."""
    lawful_basis: LawfulBasis
    """Its lawful basis for the processing."""


class DataCategoryTerms(_Terms):
    """A category of data shared, down to its fields."""

    name: str
    """The category's code."""
    sensitive: bool
    """Whether it is special-category data."""
    fields: list[str]
    """The fields shared."""


class RetentionTerms(_Terms):
    """How long a recipient keeps the data, and what happens to it then."""

    days: int
    """Days kept."""
    then: RetentionEnd
    """What happens after: deleted, anonymised or returned."""


class OnwardSharingTerms(_Terms):
    """Whether a recipient may pass the data on."""

    allowed: bool
    """Whether onward sharing is allowed at all."""
    to: list[str]
    """To whom (slugs)."""
    conditions: str | None
    """On which conditions."""


class AgreementVersion(RegistryChange):
    """One version of an agreement with its full terms; whether it is in force today is each reader's to decide."""

    id: uuid.UUID
    """The agreement."""
    reference: str
    """Its reference (a slug)."""
    tenant: str
    """The tenant that discloses the data (the controller party)."""
    version: int
    """The version: one per change, the old ones kept."""
    status: AgreementStatus
    """Its status in this version."""
    reason: str | None
    """Why it was suspended, terminated or expired."""
    changed_at: datetime
    """When this version was recorded."""
    title: str
    """The agreement's title."""
    purpose: str
    """What the sharing is for."""
    parties: list[AgreementPartyTerms]
    """The parties: at least one tenant controller."""
    data_categories: list[DataCategoryTerms]
    """What data is shared."""
    operations: list[Operation]
    """What the parties may do under it."""
    consent_required: bool
    """Whether each person's consent is needed as well."""
    valid_from: date
    """The first day it may be in force."""
    valid_until: date
    """The last day it may be in force."""
    review_date: date
    """When it is to be reviewed."""
    retention: RetentionTerms
    """How long recipients keep the data."""
    onward_sharing: OnwardSharingTerms
    """Whether recipients may pass it on."""
    aggregate_suppression_threshold: int
    """Aggregates below this count are suppressed."""
    reidentification_allowed: Literal[False]
    """Never: re-identification and linking are excluded by policy."""
    data_subject_rights: str
    """How requests from the people concerned are handled."""


@event_type("agreement.created", topic=TOPIC)
class AgreementCreated(AgreementVersion):
    """An agreement was recorded as a draft (version 1): it permits nothing until activated."""


@event_type("agreement.activated", topic=TOPIC)
class AgreementActivated(AgreementVersion):
    """An agreement was activated or reinstated: it permits its operations within its dates."""


@event_type("agreement.suspended", topic=TOPIC)
class AgreementSuspended(AgreementVersion):
    """An agreement was suspended: the flows it covers stop until it is reinstated."""


@event_type("agreement.terminated", topic=TOPIC)
class AgreementTerminated(AgreementVersion):
    """An agreement was terminated for good."""


@event_type("agreement.expired", topic=TOPIC)
class AgreementExpired(AgreementVersion):
    """An agreement's validity ended: it permits nothing any more."""


# By the status a version has, the event that publishes it.
AGREEMENT_EVENT_OF_STATUS: dict[AgreementStatus, type[AgreementVersion]] = {
    "draft": AgreementCreated,
    "active": AgreementActivated,
    "suspended": AgreementSuspended,
    "terminated": AgreementTerminated,
    "expired": AgreementExpired,
}


# --- signing keys and identity providers ---------------------------------------------------------


@event_type("signing_key.rotated", topic=TOPIC)
class SigningKeyRotated(RegistryChange):
    """A new token-signing key was published; it signs from the time given."""

    kid: str
    """The key's id (its JWK thumbprint)."""
    signs_from: datetime
    """When it starts signing."""


class _IdentityProviderChange(RegistryChange):
    """A change to the external OpenID Connect provider a tenant trusts."""

    tenant: str
    """The tenant."""


@event_type("identity_provider.configured", topic=TOPIC)
class IdentityProviderConfigured(_IdentityProviderChange):
    """A tenant's people now sign in through this provider (its client secret never travels)."""

    issuer: str
    """The provider's issuer URL."""
    subject_claim: str
    """The ID-token claim that names the person."""
    client_secret_changed: bool
    """Whether the client secret was replaced."""


@event_type("identity_provider.removed", topic=TOPIC)
class IdentityProviderRemoved(_IdentityProviderChange):
    """A tenant stopped trusting its provider: its people sign in with passwords again."""


class _ExternalIdentityChange(_IdentityProviderChange):
    """A link from a subject at a tenant's provider to a person (the subject itself is left out)."""

    person_id: uuid.UUID
    """The person."""
    link_id: uuid.UUID
    """The link."""


@event_type("external_identity.linked", topic=TOPIC)
class ExternalIdentityLinked(_ExternalIdentityChange):
    """A subject at the tenant's provider now signs in as the person."""


@event_type("external_identity.unlinked", topic=TOPIC)
class ExternalIdentityUnlinked(_ExternalIdentityChange):
    """A subject at the tenant's provider signs nobody in any more."""


# --- sign-ins and refused tokens -----------------------------------------------------------------


@event_type("sign_in.succeeded", topic=TOPIC)
class SignInSucceeded(EventData):
    """A person signed in; published in each tenant they act in."""

    actor: str
    """The person's id."""
    client_id: str | None
    """The app they signed in to (bounded to 64 characters)."""
    amr: list[str]
    """How they authenticated (RFC 8176 method references)."""
    via_tenant: str | None
    """The tenant whose external provider vouched for them, if any."""


@event_type("sign_in.failed", topic=TOPIC)
class SignInFailed(EventData):
    """A sign-in was refused; its person is unproven, so it is in the platform's log."""

    reason: Literal["credentials", "second_factor"]
    """What failed: the username or password, or the one-time code."""
    client_id: str | None
    """The app it was made through (bounded to 64 characters)."""
    username_key: str | None = None
    """A keyed hash (HMAC-SHA256, key held by the gateway) of the username tried: attempts on one account
    can be told apart from a spray across many without the log holding any username."""


@event_type("token.refused", topic=TOPIC)
class TokenRefused(EventData):
    """The token endpoint refused a request."""

    client_id: str | None
    """The client id the request claimed (bounded to 64 characters)."""
    grant_type: str | None
    """The grant type it asked for (bounded to 64 characters)."""
    status: int
    """The HTTP status answered."""
    error: str
    """The OAuth error code answered (bounded to 64 characters)."""


@event_type("token.refusals_counted", topic=TOPIC)
class TokenRefusalsCounted(EventData):
    """Token requests refused in one minute that named no registered client, counted rather than logged one by one.

    Anyone may send junk to the token endpoint; one event each would let a loop fill the log.
    A refusal that names a registered client is still a `token.refused` of its own.
    """

    minute: datetime
    """The start of the minute counted (UTC)."""
    count: int
    """How many requests were refused in it."""
    errors: dict[str, int]
    """How many of them were answered with each OAuth error code."""
