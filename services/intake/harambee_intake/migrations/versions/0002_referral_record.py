"""The full referral record: coded choices, sealed narrative, flags; per-tenant vocabularies.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import protect_tenant_table

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # New referrals seal their narrative; `concern` stays readable for the ones stored before.
    op.alter_column("referrals", "concern", nullable=True)
    op.add_column("referrals", sa.Column("coded", JSONB, nullable=False, server_default="{}"))
    op.add_column("referrals", sa.Column("flags", JSONB, nullable=False, server_default="[]"))
    op.add_column("referrals", sa.Column("is_minor", sa.Boolean))
    op.add_column("referrals", sa.Column("age_band", sa.Text))
    op.add_column("referrals", sa.Column("sealed", JSONB))
    op.create_index("referrals_subject", "referrals", ["tenant_id", "subject_id"])
    op.create_table(
        "vocabularies",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("entries", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    protect_tenant_table("vocabularies", component="intake", privileges="SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_table("vocabularies")
    op.drop_index("referrals_subject", "referrals")
    for column in ("sealed", "age_band", "is_minor", "flags", "coded"):
        op.drop_column("referrals", column)
