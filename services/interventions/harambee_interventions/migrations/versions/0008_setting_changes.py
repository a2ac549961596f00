"""The history of a tenant's intervention settings and catalogue: every change, with the value it replaced.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import protect_tenant_table

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "setting_changes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),  # settings or intervention_type
        sa.Column("name", sa.Text, nullable=False),  # intervention-settings, or the type's code
        sa.Column("previous", JSONB),
        sa.Column("value", JSONB, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("setting_changes_newest", "setting_changes", ["tenant_id", "changed_at", "id"])
    # A record of what was: rows are added, never changed.
    protect_tenant_table("setting_changes", component="interventions", privileges="SELECT, INSERT")


def downgrade() -> None:
    op.drop_table("setting_changes")
