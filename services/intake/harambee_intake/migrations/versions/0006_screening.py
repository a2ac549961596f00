"""Screening decisions, timeliness, and per-tenant settings (the designated escalation contact).

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import protect_tenant_table

revision = "0006"
down_revision = "0005"

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("referrals", sa.Column("outcome", sa.Text))
    op.add_column("referrals", sa.Column("screened_at", Timestamp))
    op.add_column("referrals", sa.Column("screened_by", sa.Text))
    op.add_column("referrals", sa.Column("screening_seconds", sa.Integer))
    op.create_index("referrals_tenant_outcome", "referrals", ["tenant_id", "outcome", "screened_at"])
    op.create_table(
        "screenings",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.id"), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("sealed", JSONB),
        sa.Column("handoff", JSONB),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("decided_at", Timestamp, nullable=False),
    )
    op.create_index("screenings_referral", "screenings", ["tenant_id", "referral_id"])
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    protect_tenant_table("screenings", component="intake", privileges="SELECT, INSERT, UPDATE")
    protect_tenant_table("tenant_settings", component="intake", privileges="SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_table("tenant_settings")
    op.drop_table("screenings")
    op.drop_index("referrals_tenant_outcome", "referrals")
    for column in ("screening_seconds", "screened_by", "screened_at", "outcome"):
        op.drop_column("referrals", column)
