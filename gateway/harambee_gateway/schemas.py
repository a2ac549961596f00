"""Documents the gateway publishes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from harambee_common.catalogue.registry import (
    AgreementStatus,
    ClientType,
    LawfulBasis,
    Operation,
    OrganisationKind,
    PartyKind,
    PartyRole,
    RetentionEnd,
)
from harambee_common.permissions import ClientRoleName, PersonRoleName, ScopeName


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 authorization server metadata."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str]
    authorization_endpoint: str
    code_challenge_methods_supported: list[str]


class TokenResponse(BaseModel):
    """RFC 6749 §5.1: an access token (an RFC 9068 JWT) and how long it lasts."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str | None = None


class OAuthError(BaseModel):
    """RFC 6749 §5.2: why a token request was refused."""

    error: Literal["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                   "unsupported_grant_type", "invalid_scope"]
    error_description: str | None = None
    error_uri: str | None = None


class TokenRequest(BaseModel):
    """RFC 6749 §4.4.2 and §4.1.3, form-encoded; a confidential client authenticates with HTTP Basic
    (client_secret_basic) or with client_id and client_secret here (client_secret_post), never both."""

    grant_type: Literal["client_credentials", "authorization_code"]
    scope: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None


class Health(BaseModel):
    """A liveness or readiness answer."""

    status: str


# --- The admin API -------------------------------------------------------------------------------

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class TenantCreate(BaseModel):
    """A new county or national programme."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug
    name: Text
    kind: Literal["county", "national"]
    oversees: list[Slug] = Field(default_factory=list, description="county tenants (national only)")
    require_totp: bool = False


class TenantUpdate(BaseModel):
    """Changes to a tenant; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = None
    oversees: list[Slug] | None = None
    require_totp: bool | None = None


class TenantView(BaseModel):
    """A tenant."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    kind: str
    oversees: list[str]
    require_totp: bool
    created_at: datetime


class OrganisationCreate(BaseModel):
    """A new organisation and the tenants it works in."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug
    name: Text
    kind: OrganisationKind
    tenants: list[Slug] = Field(default_factory=list)


class OrganisationUpdate(BaseModel):
    """Changes to an organisation; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = None
    tenants: list[Slug] | None = None


class OrganisationView(BaseModel):
    """An organisation."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    kind: str
    tenants: list[str]
    created_at: datetime


class StaffRoleOverride(BaseModel):
    """An administrator's decision to give a partner organisation's client or person a staff role."""

    model_config = ConfigDict(extra="forbid")

    reason: Text


class GrantIn(BaseModel):
    """The roles and scopes a client is to hold in one tenant."""

    model_config = ConfigDict(extra="forbid")

    tenant: Slug
    roles: list[ClientRoleName] = Field(min_length=1)
    scopes: list[ScopeName] = Field(min_length=1)
    # A partner organisation's client holds partner roles only (partners.py), unless overridden.
    staff_role_override: StaffRoleOverride | None = None


class GrantView(BaseModel):
    """The roles and scopes a client holds in one tenant."""

    tenant: str
    roles: list[str]
    scopes: list[str]


class ClientCreate(BaseModel):
    """A new client: a confidential machine client with grants, or a public single-page app."""

    model_config = ConfigDict(extra="forbid")

    name: Text
    organisation: Slug | None = None
    client_type: ClientType = "confidential"
    grants: list[GrantIn] = Field(default_factory=list)
    # Public clients only: where sign-in may return to (exact match), and the most it may ask for.
    redirect_uris: list[Annotated[str, StringConstraints(max_length=500)]] = Field(default_factory=list)
    allowed_scopes: list[ScopeName] = Field(default_factory=list)


class ClientView(BaseModel):
    """A registered client: never its secret or the secret's hash."""

    client_id: str
    name: str
    organisation: str | None
    client_type: str
    grants: list[GrantView]
    redirect_uris: list[str]
    allowed_scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    previous_secret_valid_until: datetime | None

    @classmethod
    def of(cls, client: Any, **extra: Any) -> Self:
        """The view of a client loaded with its organisation and grants."""
        return cls(
            client_id=client.client_id,
            name=client.name,
            organisation=client.organisation.slug if client.organisation else None,
            client_type=client.client_type,
            redirect_uris=list(client.redirect_uris),
            allowed_scopes=list(client.allowed_scopes),
            grants=[
                GrantView(tenant=g.tenant, roles=list(g.roles), scopes=list(g.scopes))
                for g in sorted(client.grants, key=lambda g: g.tenant)
            ],
            created_at=client.created_at,
            revoked_at=client.revoked_at,
            previous_secret_valid_until=client.previous_secret_expires_at if client.previous_secret_hash else None,
            **extra,
        )


class ClientSecret(BaseModel):
    """A client's new secret, shown once; the previous one is valid until the time given."""

    client_id: str
    client_secret: str
    previous_secret_valid_until: datetime | None


class ClientCreated(ClientView):
    """A new client with its secret, shown once (a public client has none)."""

    client_secret: str | None


class SigningKeyView(BaseModel):
    """A published signing key and where it is in its life."""

    kid: str
    signs_from: datetime | None
    state: Literal["pending", "signing", "retiring"]


class EnrolmentRequest(BaseModel):
    """What a one-time enrolment lets the person set: a new password, a new second factor, or both."""

    model_config = ConfigDict(extra="forbid")

    password: bool = True
    second_factor: bool = True


class EnrolmentIssued(BaseModel):
    """A one-time enrolment: deliver `enrolment_url` to the person, and only to them; it works once."""

    id: uuid.UUID
    person_id: uuid.UUID
    password: bool
    second_factor: bool
    expires_at: datetime
    enrolment_url: str = Field(description="single use; the token is in the fragment, which no server logs")


class EnrolmentIn(BaseModel):
    """A person using their enrolment: the token from the link, and their new password if it sets one."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=20, max_length=200)]
    password: Annotated[str, StringConstraints(min_length=12, max_length=256)] | None = None


class SecondFactor(BaseModel):
    """A person's new TOTP secret, shown once: enter it (or scan the URI) in an authenticator app."""

    secret: str
    otpauth_uri: str


class EnrolmentCompleted(BaseModel):
    """What the person set; `second_factor` (shown once) goes into their authenticator app."""

    person_id: uuid.UUID
    username: str
    second_factor: SecondFactor | None


class SecretRotation(BaseModel):
    """How long the previous secret stays valid while callers move to the new one."""

    model_config = ConfigDict(extra="forbid")

    previous_valid_for_seconds: int = Field(default=86_400, ge=0, le=30 * 86_400)


class PersonCreate(BaseModel):
    """A new person; without a password, one is generated and returned once."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]
    display_name: Text | None = None
    organisation: Slug | None = None
    password: Annotated[str, StringConstraints(min_length=12, max_length=256)] | None = None


class RoleView(BaseModel):
    """A role a person holds in a tenant."""

    tenant: str
    role: str
    granted_at: datetime


class PersonView(BaseModel):
    """A person and their current roles; never the password hash."""

    id: uuid.UUID
    username: str
    display_name: str | None
    organisation: str | None
    roles: list[RoleView]
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def of(cls, person: Any, **extra: Any) -> Self:
        """The view of a person loaded with their organisation and current roles."""
        return cls(
            id=person.id,
            username=person.username,
            display_name=person.display_name,
            organisation=person.organisation.slug if person.organisation else None,
            roles=[
                RoleView(tenant=r.tenant, role=r.role, granted_at=r.granted_at)
                for r in sorted(person.roles, key=lambda r: (r.tenant, r.role))
            ],
            created_at=person.created_at,
            disabled_at=person.disabled_at,
            **extra,
        )


class PersonCreated(PersonView):
    """A new person; initial_password is present only when the gateway generated it."""

    initial_password: str | None


class RoleGrant(BaseModel):
    """A role to grant a person in a tenant."""

    model_config = ConfigDict(extra="forbid")

    tenant: Slug
    role: PersonRoleName
    # A partner organisation's person holds intervention_provider only (partners.py), unless overridden.
    staff_role_override: StaffRoleOverride | None = None


# --- Data-sharing agreements ---------------------------------------------------------------------

FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.]{0,79}$")]


class AgreementParty(BaseModel):
    """A party to an agreement: a tenant or an organisation, its role, and its lawful basis."""

    model_config = ConfigDict(extra="forbid")

    kind: PartyKind
    id: Slug
    role: PartyRole
    lawful_basis: LawfulBasis


class DataCategory(BaseModel):
    """A category of data shared, down to its fields."""

    model_config = ConfigDict(extra="forbid")

    name: FieldName
    sensitive: bool
    fields: list[FieldName] = Field(min_length=1)


class OnwardSharing(BaseModel):
    """Whether a recipient may pass the data on; none unless stated."""

    model_config = ConfigDict(extra="forbid")

    allowed: bool = False
    to: list[Slug] = Field(default_factory=list)
    conditions: Text | None = None


class Retention(BaseModel):
    """How long a recipient keeps the data, and what happens to it then."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(ge=1, le=3650)
    then: RetentionEnd = "delete"


class DifferentialPrivacy(BaseModel):
    """Noisy aggregates instead of suppressed ones: the ε of each release and the budget of each period."""

    model_config = ConfigDict(extra="forbid")

    epsilon_per_release: float = Field(gt=0, le=10)
    budget_per_period: float = Field(gt=0, le=100)
    period: Literal["month", "quarter", "year"] = "quarter"


class AgreementTerms(BaseModel):
    """What an agreement allows. The same terms in every version; only status changes them in force."""

    model_config = ConfigDict(extra="forbid")

    title: Text
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    parties: list[AgreementParty] = Field(min_length=2)
    data_categories: list[DataCategory] = Field(min_length=1)
    operations: list[Operation] = Field(min_length=1)
    consent_required: bool
    valid_from: date
    valid_until: date
    review_date: date
    retention: Retention
    onward_sharing: OnwardSharing = Field(default_factory=OnwardSharing)
    # Aggregates below this count are suppressed: a small-area figure can identify a person.
    aggregate_suppression_threshold: int = Field(default=5, ge=1, le=1000)
    # Monitoring's differential-privacy mode for this agreement's aggregates (null: suppression only).
    differential_privacy: DifferentialPrivacy | None = None
    # Fixed by policy, recorded so that every copy states it: no re-identification, no linking.
    reidentification_allowed: Literal[False] = False
    data_subject_rights: Text = "Requests are forwarded to the controller within 3 days."


class AgreementCreate(AgreementTerms):
    """A new agreement, created as a draft."""

    reference: Slug


class AgreementChange(BaseModel):
    """Why an agreement is suspended or terminated (recorded in the version)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class AgreementView(AgreementTerms):
    """One version of an agreement: its terms, status and whether it permits anything today."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    reference: str
    tenant: str
    version: int
    status: AgreementStatus
    in_force: bool
    changed_by: str
    reason: str | None
    changed_at: datetime


# --- External identity providers -----------------------------------------------------------------

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=500)]
ClaimName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")]
ProviderScope = Annotated[str, StringConstraints(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]{1,100}$")]


class IdentityProviderIn(BaseModel):
    """The OpenID Connect provider a tenant trusts; endpoints left out are discovered from the issuer."""

    model_config = ConfigDict(extra="forbid")

    issuer: Url = Field(description="exactly as the provider's ID tokens state it in `iss`")
    client_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    client_secret: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description="required the first time; left out, the stored secret is kept"
    )
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    authorization_endpoint: Url | None = None
    token_endpoint: Url | None = None
    jwks_uri: Url | None = None
    subject_claim: ClaimName = Field(default="sub", description="the ID-token claim that names the person")
    scopes: list[ProviderScope] | None = Field(
        default=None, max_length=20, description="default: openid, plus email when subject_claim is email"
    )
    require_verified_email: bool = Field(
        default=True, description="with subject_claim email: refuse unless the provider says email_verified"
    )
    authorization_response_iss_parameter_supported: bool | None = Field(
        default=None, description="RFC 9207: the provider names itself in `iss` on every authorization answer, "
        "which is then required; left out, read from its discovery document (fetched for this)",
    )


class IdentityProviderView(BaseModel):
    """A tenant's provider: never its client secret. Register `redirect_uri` at the provider."""

    tenant: str
    issuer: str
    client_id: str
    client_secret_set: bool = True
    token_endpoint_auth_method: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    subject_claim: str
    scopes: list[str]
    require_verified_email: bool
    authorization_response_iss_parameter_supported: bool
    redirect_uri: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, provider: Any, *, redirect_uri: str) -> Self:
        """The view of a stored provider, with the gateway's callback to register there."""
        return cls(
            tenant=provider.tenant,
            issuer=provider.issuer,
            client_id=provider.client_id,
            token_endpoint_auth_method=provider.token_endpoint_auth_method,
            authorization_endpoint=provider.authorization_endpoint,
            token_endpoint=provider.token_endpoint,
            jwks_uri=provider.jwks_uri,
            subject_claim=provider.subject_claim,
            scopes=list(provider.scopes),
            require_verified_email=provider.require_verified_email,
            authorization_response_iss_parameter_supported=provider.authorization_response_iss_parameter_supported,
            redirect_uri=redirect_uri,
            created_at=provider.created_at,
            updated_at=provider.updated_at,
        )


class ExternalIdentityCreate(BaseModel):
    """Links a subject at the tenant's provider (the value of its subject claim) to a person."""

    model_config = ConfigDict(extra="forbid")

    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
    person_id: uuid.UUID


class ExternalIdentityView(BaseModel):
    """A subject at the tenant's provider and the person it signs in as."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tenant: str
    issuer: str
    claim: str
    subject: str
    person_id: uuid.UUID
    created_at: datetime
