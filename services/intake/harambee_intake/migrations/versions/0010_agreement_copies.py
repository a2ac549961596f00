"""The local copy of the registry's data-sharing agreements (partners act only under one), and the
record of consumed events that keeps the copy's updates idempotent.

Revision ID: 0010
"""

from alembic import op

from harambee_common.agreements import create_agreement_copies
from harambee_common.migrations import create_processed_events

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    create_agreement_copies("intake")
    create_processed_events("intake")


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("agreement_copies")
