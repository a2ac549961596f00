"""The registry's tables: tenants, organisations, machine clients and their grants."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    """A county or national programme; every token names the tenants its client acts in."""

    __tablename__ = "tenants"
    __table_args__ = (sa.CheckConstraint("kind IN ('county', 'national')", name="tenant_kind"),)

    slug: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)


class Organisation(Base):
    """A CSO, agency or programme whose systems call the API."""

    __tablename__ = "organisations"
    __table_args__ = (sa.CheckConstraint("kind IN ('cso', 'agency', 'programme')", name="organisation_kind"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)


class Client(Base):
    """An OAuth2 confidential client; only an argon2 hash of its secret is kept."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(sa.Text)
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

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
