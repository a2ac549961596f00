"""Signing keys made by rotation, encrypted under a key derived from the bootstrap key file.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.Text, primary_key=True),
        sa.Column("encrypted_private_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        # Published from creation; signs only from here, once every verifier can have fetched it.
        sa.Column("signs_from", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute('GRANT SELECT, INSERT ON signing_keys TO "gateway_app"')


def downgrade() -> None:
    op.drop_table("signing_keys")
