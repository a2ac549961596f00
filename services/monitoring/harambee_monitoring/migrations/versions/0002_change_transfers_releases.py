"""Reassessments' item counts by kind (concerns down, strengths up); cases transferred in and out; the cells
each suppressed release withheld (disclosure.history).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

from harambee_common.migrations import protect_tenant_table

revision = "0002"
down_revision = "0001"

KIND_COUNTS = ("concerns_compared", "concerns_down", "concerns_up", "strengths_compared", "strengths_up",
               "strengths_down")
TRANSFER_DATES = ("transferred_in_at", "transferred_out_at")


def upgrade() -> None:
    for column in KIND_COUNTS:
        op.add_column("reassessments", sa.Column(column, sa.Integer))
    for column in TRANSFER_DATES:
        op.add_column("case_facts", sa.Column(column, sa.DateTime(timezone=True)))
        op.create_index(f"case_facts_{column}", "case_facts", ["tenant_id", column],
                        postgresql_where=sa.text(f"{column} IS NOT NULL"))


    op.create_table(
        "withheld_cells",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("agreement_id", sa.Uuid, primary_key=True),
        sa.Column("unit", sa.Text, primary_key=True),
        sa.Column("partition", sa.Text, primary_key=True),
        sa.Column("month", sa.Text, primary_key=True),
        sa.Column("category", sa.Text, primary_key=True),
        sa.Column("first_withheld_at", sa.DateTime(timezone=True), nullable=False),
    )
    # A cell once withheld stays withheld: rows are added, never changed or removed.
    protect_tenant_table("withheld_cells", component="monitoring", privileges="SELECT, INSERT")


def downgrade() -> None:
    op.drop_table("withheld_cells")
    for column in TRANSFER_DATES:
        op.drop_column("case_facts", column)
    for column in KIND_COUNTS:
        op.drop_column("reassessments", column)
