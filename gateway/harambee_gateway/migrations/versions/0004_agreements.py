"""Data-sharing agreements: parties, and one immutable version per change.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STATUSES = ("draft", "active", "suspended", "expired", "terminated")


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("reference", sa.Text, nullable=False, unique=True),
        sa.Column("tenant", sa.Text, sa.ForeignKey("tenants.slug"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "agreement_parties",
        sa.Column("agreement_id", sa.Uuid, sa.ForeignKey("agreements.id"), primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("party", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('tenant', 'organisation')", name="agreement_party_kind"),
        sa.CheckConstraint("role IN ('controller', 'processor', 'recipient')", name="agreement_party_role"),
    )
    op.create_index("agreement_parties_by_party", "agreement_parties", ["party"])
    op.create_table(
        "agreement_versions",
        sa.Column("agreement_id", sa.Uuid, sa.ForeignKey("agreements.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("terms", JSONB, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="agreement_status"),
        sa.CheckConstraint("valid_until >= valid_from", name="agreement_validity"),
    )
    op.execute('GRANT SELECT, INSERT ON agreements, agreement_parties TO "gateway_app"')
    # Versions are a record of what was agreed when: added to, never changed.
    op.execute('GRANT SELECT, INSERT ON agreement_versions TO "gateway_app"')


def downgrade() -> None:
    op.drop_table("agreement_versions")
    op.drop_table("agreement_parties")
    op.drop_table("agreements")
