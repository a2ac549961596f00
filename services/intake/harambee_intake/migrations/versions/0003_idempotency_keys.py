"""Idempotency keys: the response to a POST, remembered per tenant, client and key.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import protect_tenant_table

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("client_id", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("request_hash", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("response", JSONB),
        sa.Column("location", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("idempotency_keys_created", "idempotency_keys", ["tenant_id", "created_at"])
    protect_tenant_table("idempotency_keys", component="intake", privileges="SELECT, INSERT, UPDATE, DELETE")


def downgrade() -> None:
    op.drop_table("idempotency_keys")
