"""Secrets sealed under a key-encryption key, not the signing key; the bootstrap signing key retired for good.

`retired_signing_keys` records when a key stops signing whatever else happens (the first rotation
retires the bootstrap key). Re-sealing under a new KEK (`python -m harambee_gateway reseal-secrets`)
updates the sealed signing keys in place, so the runtime role may now update them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retired_signing_keys",
        sa.Column("kid", sa.Text, primary_key=True),
        sa.Column("retired_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_by", sa.Text, nullable=False),
    )
    # No UPDATE or DELETE: a retirement is for good.
    op.execute('GRANT SELECT, INSERT ON retired_signing_keys TO "gateway_app"')
    op.execute('GRANT UPDATE (encrypted_private_key) ON signing_keys TO "gateway_app"')


def downgrade() -> None:
    op.execute('REVOKE UPDATE (encrypted_private_key) ON signing_keys FROM "gateway_app"')
    op.drop_table("retired_signing_keys")
