"""Cases, the outbox, consumed events.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from harambee_common.migrations import create_outbox, create_processed_events, protect_tenant_table

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_ref", sa.Uuid, nullable=False),
        sa.Column("referral_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("cases_tenant_opened", "cases", ["tenant_id", "opened_at", "id"])
    protect_tenant_table("cases", component="assessment", privileges="SELECT, INSERT, UPDATE")
    create_outbox("assessment")
    create_processed_events("assessment")


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("cases")
