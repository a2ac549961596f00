"""Tenant keys are random and stored wrapped by the key-encryption key, one row per generation.

Data keys wrapped before this stay readable: a generation without a row is one an older version
derived from the KEK, and the vault still derives it until a rotation moves every data key to a
random generation and destroys (marks) the derived ones.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

from harambee_common.migrations import protect_tenant_table

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    op.create_table(
        "tenant_key_material",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("generation", sa.Integer, primary_key=True),
        # NULL once destroyed: the data keys this generation wrapped are crypto-shredded.
        sa.Column("wrapped_key", sa.LargeBinary),
        sa.Column("kek_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("(wrapped_key IS NULL) = (destroyed_at IS NOT NULL)", name="destroyed_means_gone"),
    )
    protect_tenant_table("tenant_key_material", component="intake", privileges="SELECT, INSERT")
    # The service changes a row only to destroy it (tenant_keys.destroy_before).
    op.execute('GRANT UPDATE (wrapped_key, destroyed_at) ON tenant_key_material TO "intake_app"')


def downgrade() -> None:
    op.drop_table("tenant_key_material")
