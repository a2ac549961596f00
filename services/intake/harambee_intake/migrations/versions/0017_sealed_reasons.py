"""Why two subjects were merged or un-merged, and why a person was re-identified, are sealed, not kept in clear.

They are free text about a person: sealed under that person's data key (in `sealed`), they go with the key
when the person is erased, and a dump of the database holds none. This migration runs without the keys, so
reasons recorded before it stay in `reason` / `unmerge_reason` until the person's erasure (or the retention
that minimises them) replaces them with its marker, as before.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017"
down_revision = "0016"


def upgrade() -> None:
    for table in ("subject_merges", "reidentifications"):
        op.add_column(table, sa.Column("sealed", JSONB))
        op.alter_column(table, "reason", nullable=True)
    # Erasure empties the sealed reason of a re-identification as it does the clear one.
    op.execute('GRANT UPDATE (sealed) ON reidentifications TO "intake_app"')


def downgrade() -> None:
    op.execute('REVOKE UPDATE (sealed) ON reidentifications FROM "intake_app"')
    for table in ("subject_merges", "reidentifications"):
        op.execute(f"UPDATE {table} SET reason = '[sealed]' WHERE reason IS NULL")
        op.alter_column(table, "reason", nullable=False)
        op.drop_column(table, "sealed")
