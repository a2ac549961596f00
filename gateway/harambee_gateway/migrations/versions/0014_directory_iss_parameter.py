"""RFC 9207 for external directories: whether a directory names itself (`iss`) in its authorization answers.

Where it does (its discovery document's `authorization_response_iss_parameter_supported`), an answer
without `iss` is refused. Callbacks are now one per directory (`/oauth/external/callback/<tenant>`):
each directory's redirect URI must be registered again there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("identity_providers", sa.Column(
        "authorization_response_iss_parameter_supported", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("identity_providers", "authorization_response_iss_parameter_supported")
