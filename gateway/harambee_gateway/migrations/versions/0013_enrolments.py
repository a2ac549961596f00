"""One-time enrolments: a person sets their own password and second factor through a single-use link.

Administrators (and the client-credentials admin client) no longer receive anyone's password or
second factor: a reset issues an enrolment, kept here as a hash of its token.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("people.id"), nullable=False, index=True),
        # SHA-256 of the token: a dump of the registry holds no usable link.
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("password", sa.Boolean, nullable=False),
        sa.Column("second_factor", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        # A newer enrolment for the same person replaces an open one.
        sa.Column("superseded_at", sa.DateTime(timezone=True)),
    )
    op.execute('GRANT SELECT, INSERT, UPDATE ON enrolments TO "gateway_app"')


def downgrade() -> None:
    op.drop_table("enrolments")
