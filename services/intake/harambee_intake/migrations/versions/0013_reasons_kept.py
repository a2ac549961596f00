"""Who erased a person and why is kept with the subject; "nothing sealed" is SQL NULL everywhere.

Erasure required a reason and then dropped it: the accountability the Data Protection Act asks for is
who did it, when, and why, and it must outlast the erasure. (The reason a rights request was closed is
sealed with the request's note, under the person's key: it needs no column.) Some writers cleared a
sealed column to JSON null and others to SQL NULL; the models now write SQL NULL only, and the old
JSON nulls become NULL.

Revision ID: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"

SEALED = ("referrals", "screenings", "consents", "rights_requests")


def upgrade() -> None:
    op.add_column("subjects", sa.Column("erased_by", sa.Text))
    op.add_column("subjects", sa.Column("erasure_reason", sa.Text))
    for table in SEALED:
        op.execute(f"UPDATE {table} SET sealed = NULL WHERE jsonb_typeof(sealed) = 'null'")


def downgrade() -> None:
    op.drop_column("subjects", "erasure_reason")
    op.drop_column("subjects", "erased_by")
