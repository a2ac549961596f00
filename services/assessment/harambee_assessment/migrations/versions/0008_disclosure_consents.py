"""Consents naming organisations among their recipients, for agreements that require consent.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from harambee_common.migrations import protect_tenant_table

revision = "0008"
down_revision = "0007"

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "disclosure_consents",
        sa.Column("consent_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_ref", sa.Uuid, nullable=False),
        sa.Column("organisations", ARRAY(sa.Text), nullable=False),
        sa.Column("given_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN),
        sa.Column("withdrawn_at", WHEN),
    )
    op.create_index("disclosure_consents_subject", "disclosure_consents", ["tenant_id", "subject_ref"])
    protect_tenant_table("disclosure_consents", component="assessment", privileges="SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_table("disclosure_consents")
