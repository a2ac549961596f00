"""Consents as intake records them, for the agreements that need one: the person, the registry organisations
it names among its recipients, its expiry and withdrawal (`consents/`).

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from harambee_common.migrations import protect_tenant_table

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("consent_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_ref", sa.Uuid, nullable=False),
        sa.Column("organisations", ARRAY(sa.Text), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
    )
    op.create_index("consents_subject", "consents", ["tenant_id", "subject_ref"])
    protect_tenant_table("consents", component="interventions", privileges="SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_table("consents")
