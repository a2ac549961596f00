"""Consent records: who gave it, for which purposes and recipients, how evidenced, expiry, withdrawal.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import protect_tenant_table

revision = "0008"
down_revision = "0007"

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Uuid, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("given_by", sa.Text, nullable=False),
        sa.Column("purposes", JSONB, nullable=False),
        sa.Column("recipients", JSONB, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("given_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp),
        sa.Column("sealed", JSONB),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("recorded_at", Timestamp, nullable=False),
        sa.Column("withdrawn_at", Timestamp),
        sa.Column("withdrawn_by", sa.Text),
        sa.Column("withdrawal_method", sa.Text),
        sa.Column("withdrawal_recorded_by", sa.Text),
    )
    op.create_index("consents_subject", "consents", ["tenant_id", "subject_id", "given_at"])
    protect_tenant_table("consents", component="intake", privileges="SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_table("consents")
