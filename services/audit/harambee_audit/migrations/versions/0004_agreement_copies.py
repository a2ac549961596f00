"""The local copy of the registry's data-sharing agreements (national oversight reads under them).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from harambee_common.agreements import create_agreement_copies

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_agreement_copies("audit")


def downgrade() -> None:
    op.drop_table("agreement_copies")
