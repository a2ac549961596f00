"""The registry's tables: tenants, organisations, clients, people, agreements, identity providers."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    """A county or national programme (or `platform`, where administrators act)."""

    __tablename__ = "tenants"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('county', 'national', 'platform')", name="tenant_kind"),
    )

    slug: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)
    # A national tenant lists the county tenants it oversees.
    oversees: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    require_totp: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class Organisation(Base):
    """A CSO, agency, programme or intervention provider; it may work in several tenants."""

    __tablename__ = "organisations"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('cso', 'agency', 'programme', 'provider')", name="organisation_kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)
    tenants: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class Client(Base):
    """An OAuth2 client; of a confidential one's secret only a digest is kept (client_secrets.py)."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    # None for a public client (a single-page app), which proves itself with PKCE instead.
    secret_hash: Mapped[str | None] = mapped_column(sa.Text)
    client_type: Mapped[str] = mapped_column(sa.Text, server_default="confidential")
    redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    # A public client's ceiling: a person's token has these scopes at most, and their roles' at most.
    allowed_scopes: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # During a rotation the previous secret stays valid until it is finished or this time passes.
    previous_secret_hash: Mapped[str | None] = mapped_column(sa.Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")
    grants: Mapped[list[ClientGrant]] = relationship(lazy="raise", back_populates="client")


class ClientGrant(Base):
    """The roles and scopes a client holds in one tenant."""

    __tablename__ = "client_grants"

    client_id: Mapped[str] = mapped_column(sa.ForeignKey("clients.client_id"), primary_key=True)
    tenant: Mapped[str] = mapped_column(sa.ForeignKey("tenants.slug"), primary_key=True)
    roles: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))

    client: Mapped[Client] = relationship(lazy="raise", back_populates="grants")


class Person(Base):
    """A person who signs in; only an argon2id hash of the password is kept."""

    __tablename__ = "people"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(sa.Text, unique=True)
    display_name: Mapped[str | None] = mapped_column(sa.Text)
    password_hash: Mapped[str] = mapped_column(sa.Text)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    disabled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # In clear, as versions before 0008 stored it: emptied at startup (totp_secrets), dropped in a later migration.
    totp_secret: Mapped[str | None] = mapped_column(sa.Text)
    # Sealed with totp_secrets under a key derived from the key-encryption key, bound to the person's id.
    encrypted_totp_secret: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # The last TOTP time step accepted: a code is good once.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    failed_sign_ins: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")
    roles: Mapped[list[PersonRole]] = relationship(lazy="raise", back_populates="person")


class Enrolment(Base):
    """A single-use link for a person to set their own password and/or second factor (enrolments.py)."""

    __tablename__ = "enrolments"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("people.id"))
    token_hash: Mapped[str] = mapped_column(sa.Text, unique=True)
    password: Mapped[bool] = mapped_column(sa.Boolean)
    second_factor: Mapped[bool] = mapped_column(sa.Boolean)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    superseded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class PersonRole(Base):
    """One role a person holds in one tenant; revoked, never deleted."""

    __tablename__ = "person_roles"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("people.id"))
    tenant: Mapped[str] = mapped_column(sa.ForeignKey("tenants.slug"))
    role: Mapped[str] = mapped_column(sa.Text)
    granted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    person: Mapped[Person] = relationship(lazy="raise", back_populates="roles")


class Agreement(Base):
    """A data-sharing agreement; its terms and status live in its versions, one per change."""

    __tablename__ = "agreements"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(sa.Text, unique=True)
    # The tenant that discloses the data: the agreement's events carry it, so they stay in order.
    tenant: Mapped[str] = mapped_column(sa.ForeignKey("tenants.slug"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    parties: Mapped[list[AgreementParty]] = relationship(lazy="raise")


class AgreementParty(Base):
    """A tenant or organisation party to an agreement (for finding a party's agreements)."""

    __tablename__ = "agreement_parties"

    agreement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("agreements.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    party: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    role: Mapped[str] = mapped_column(sa.Text)


class AgreementVersion(Base):
    """One immutable version of an agreement: its terms, status and validity."""

    __tablename__ = "agreement_versions"

    agreement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("agreements.id"), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    status: Mapped[str] = mapped_column(sa.Text)
    terms: Mapped[dict] = mapped_column(JSONB)
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_until: Mapped[date] = mapped_column(sa.Date)
    changed_by: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class AuthorizationCode(Base):
    """A one-time authorization code (stored as a hash), bound to client, person, redirect and PKCE."""

    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.ForeignKey("clients.client_id"))
    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("people.id"))
    redirect_uri: Mapped[str] = mapped_column(sa.Text)
    scope: Mapped[str] = mapped_column(sa.Text)
    code_challenge: Mapped[str] = mapped_column(sa.Text)
    code_challenge_method: Mapped[str] = mapped_column(sa.Text)
    auth_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    amr: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    # The tenant whose external provider vouched for the person: their token holds roles there only.
    via_tenant: Mapped[str | None] = mapped_column(sa.ForeignKey("tenants.slug"))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class StoredSigningKey(Base):
    """A signing key made by rotation; its private part sealed (AES-GCM) under the key-encryption key."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    encrypted_private_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    signs_from: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class RetiredSigningKey(Base):
    """A signing key that signs no more, whatever else the ring holds (the bootstrap key after rotation)."""

    __tablename__ = "retired_signing_keys"

    kid: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    retired_from: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    retired_by: Mapped[str] = mapped_column(sa.Text)


class IdentityProvider(Base):
    """The external OpenID Connect provider a tenant trusts to sign its people in."""

    __tablename__ = "identity_providers"

    tenant: Mapped[str] = mapped_column(sa.ForeignKey("tenants.slug"), primary_key=True)
    issuer: Mapped[str] = mapped_column(sa.Text)
    client_id: Mapped[str] = mapped_column(sa.Text)
    # Sealed with secret_box under a key derived from the key-encryption key, bound to the tenant.
    encrypted_client_secret: Mapped[bytes] = mapped_column(sa.LargeBinary)
    token_endpoint_auth_method: Mapped[str] = mapped_column(sa.Text)
    authorization_endpoint: Mapped[str] = mapped_column(sa.Text)
    token_endpoint: Mapped[str] = mapped_column(sa.Text)
    jwks_uri: Mapped[str] = mapped_column(sa.Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    subject_claim: Mapped[str] = mapped_column(sa.Text)
    require_verified_email: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    # RFC 9207: the directory names itself (`iss`) in every authorization answer; one without is refused.
    authorization_response_iss_parameter_supported: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class ExternalIdentity(Base):
    """A subject at a tenant's provider, linked by an administrator to a Harambee person."""

    __tablename__ = "external_identities"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(sa.ForeignKey("tenants.slug"))
    issuer: Mapped[str] = mapped_column(sa.Text)
    claim: Mapped[str] = mapped_column(sa.Text)
    subject: Mapped[str] = mapped_column(sa.Text)
    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("people.id"))
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class ExternalSignIn(Base):
    """A sign-in sent to a tenant's provider and not yet back: one use, ten minutes."""

    __tablename__ = "external_sign_ins"

    state_hash: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    browser_hash: Mapped[str] = mapped_column(sa.Text)
    tenant: Mapped[str] = mapped_column(sa.ForeignKey("tenants.slug"))
    nonce: Mapped[str] = mapped_column(sa.Text)
    code_verifier: Mapped[str] = mapped_column(sa.Text)
    authorization_request: Mapped[dict] = mapped_column(JSONB)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
