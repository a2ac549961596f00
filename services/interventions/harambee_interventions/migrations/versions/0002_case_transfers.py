"""A case transferred to another county leaves the sender's list of known cases.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute('GRANT DELETE ON known_cases TO "interventions_app"')


def downgrade() -> None:
    op.execute('REVOKE DELETE ON known_cases FROM "interventions_app"')
