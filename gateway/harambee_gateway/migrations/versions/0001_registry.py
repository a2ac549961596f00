"""The registry: tenants, organisations, clients and client grants.

Revision ID: 0001
Revises:
Create Date: 2025-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

REGISTRY_TABLES = ("tenants", "organisations", "clients", "client_grants")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("slug", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('county', 'national')", name="tenant_kind"),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("slug", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('cso', 'agency', 'programme')", name="organisation_kind"),
    )
    op.create_table(
        "clients",
        sa.Column("client_id", sa.Text, primary_key=True),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("organisation_id", sa.Uuid, sa.ForeignKey("organisations.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "client_grants",
        sa.Column("client_id", sa.Text, sa.ForeignKey("clients.client_id"), primary_key=True),
        sa.Column("tenant", sa.Text, sa.ForeignKey("tenants.slug"), primary_key=True),
        sa.Column("roles", ARRAY(sa.Text), nullable=False),
        sa.Column("scopes", ARRAY(sa.Text), nullable=False),
    )
    # The runtime role reads the registry to issue tokens and writes it to register clients;
    # it may never delete: a client is revoked, not erased, so that the audit trail holds.
    for table in REGISTRY_TABLES:
        op.execute(f'GRANT SELECT, INSERT, UPDATE ON {table} TO "gateway_app"')


def downgrade() -> None:
    for table in reversed(REGISTRY_TABLES):
        op.drop_table(table)
