"""Known cases, the outbox, consumed events.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from harambee_common.migrations import create_outbox, create_processed_events, protect_tenant_table

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "known_cases",
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_ref", sa.Uuid, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("known_cases_tenant_opened", "known_cases", ["tenant_id", "opened_at", "case_id"])
    protect_tenant_table("known_cases", component="interventions", privileges="SELECT, INSERT")
    create_outbox("interventions")
    create_processed_events("interventions")


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("known_cases")
