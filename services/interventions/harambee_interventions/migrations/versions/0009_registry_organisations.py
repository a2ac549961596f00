"""The registry's organisations, as its events describe them: a provider is registered only from among them.

Platform data, not a tenant's (an organisation works in several tenants): no tenant column, so no
row-level security; the service's role reads and keeps it up to date.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "registry_organisations",
        sa.Column("organisation", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("tenants", ARRAY(sa.Text), nullable=False),
    )
    op.execute('GRANT SELECT, INSERT, UPDATE ON registry_organisations TO "interventions_app"')


def downgrade() -> None:
    op.drop_table("registry_organisations")
