"""The local copy of the registry's data-sharing agreements.

Revision ID: 0002
"""

from alembic import op

from harambee_common.agreements import create_agreement_copies

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    create_agreement_copies("assessment")


def downgrade() -> None:
    op.drop_table("agreement_copies")
