"""Subjects, referrals, the outbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import create_outbox, protect_tenant_table

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "subjects",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("identity", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("subjects_tenant", "subjects", ["tenant_id"])
    op.create_table(
        "referrals",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Uuid, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("organisation", sa.Text),
        sa.Column("submitted_by", sa.Text, nullable=False),
        sa.Column("source_type", sa.Text, nullable=False),
        sa.Column("concern", sa.Text, nullable=False),
        sa.Column("indicators", JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("referrals_tenant_received", "referrals", ["tenant_id", "received_at", "id"])
    protect_tenant_table("subjects", component="intake", privileges="SELECT, INSERT, UPDATE")
    protect_tenant_table("referrals", component="intake", privileges="SELECT, INSERT, UPDATE")
    create_outbox("intake")


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("referrals")
    op.drop_table("subjects")
