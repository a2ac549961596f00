"""People's TOTP secrets are sealed (AES-GCM under a key derived from the bootstrap key), not kept in clear.

The clear column stays for now: this migration runs without the bootstrap key, so it cannot seal
the secrets already there. The gateway seals them when it starts (totp_secrets) and empties the
clear column as it goes; a later migration drops it, once every gateway has started on this one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Bound to the person's id (AES-GCM associated data): a copy in another person's row does not open.
    op.add_column("people", sa.Column("encrypted_totp_secret", sa.LargeBinary))


def downgrade() -> None:
    # Without the bootstrap key the sealed secrets cannot be put back in clear; dropping them would
    # quietly leave those people signing in with a password alone.
    sealed = op.get_bind().scalar(sa.text("SELECT count(*) FROM people WHERE encrypted_totp_secret IS NOT NULL"))
    if sealed:
        raise RuntimeError(f"{sealed} people have sealed TOTP secrets; downgrading past 0008 would remove them")
    op.drop_column("people", "encrypted_totp_secret")
