"""The history of a tenant's assessment settings: every change, with the values it replaced.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

from harambee_common.migrations import protect_tenant_table

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "assessment_settings_changes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("four_eyes", sa.Boolean, nullable=False),
        sa.Column("panel_quorum", sa.Integer, nullable=False),
        sa.Column("previous_four_eyes", sa.Boolean, nullable=False),
        sa.Column("previous_panel_quorum", sa.Integer, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("assessment_settings_changes_newest", "assessment_settings_changes",
                    ["tenant_id", "changed_at", "id"])
    # A history is only added to: the service may not change or remove what it recorded.
    protect_tenant_table("assessment_settings_changes", component="assessment", privileges="SELECT, INSERT")


def downgrade() -> None:
    op.drop_table("assessment_settings_changes")
