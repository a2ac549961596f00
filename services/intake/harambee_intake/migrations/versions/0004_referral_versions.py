"""Versions for optimistic concurrency, screener assignment, priority; indexes for list filters.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column("referrals", sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.add_column("referrals", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE referrals SET updated_at = received_at")
    op.alter_column("referrals", "updated_at", nullable=False)
    op.add_column("referrals", sa.Column("screener", sa.Text))
    op.add_column("referrals", sa.Column("priority", sa.Text, nullable=False, server_default="routine"))
    op.create_index("referrals_tenant_updated", "referrals", ["tenant_id", "updated_at", "id"])
    op.create_index("referrals_tenant_status", "referrals", ["tenant_id", "status", "received_at"])
    op.create_index("referrals_tenant_org", "referrals", ["tenant_id", "organisation", "received_at"])


def downgrade() -> None:
    for index in ("referrals_tenant_org", "referrals_tenant_status", "referrals_tenant_updated"):
        op.drop_index(index, "referrals")
    for column in ("priority", "screener", "updated_at", "version"):
        op.drop_column("referrals", column)
