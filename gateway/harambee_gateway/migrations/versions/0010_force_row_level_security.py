"""Row-level security binds the owner role too: a migration or a tool run as the owner sees one tenant's rows.

Tables made from now on get this from protect_tenant_table; this forces it on the ones made before.

Revision ID: 0010
"""

from harambee_common.migrations import force_row_level_security, unforce_row_level_security

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    force_row_level_security("gateway")


def downgrade() -> None:
    unforce_row_level_security()
