"""The registry's outbox: every registry change is published on `registry.events`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from harambee_common.migrations import create_outbox

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox("gateway")


def downgrade() -> None:
    from alembic import op

    op.drop_table("outbox")
