"""Break-the-glass: accesses made under an emergency reason, and the compliance officers' decisions on them.

Both tables are insert-only, like the log: a queued access is never removed, and a decision is never
changed (the primary key makes "decided once" hold under concurrent reviewers). No foreign key points
at `entries`: it would let a TRUNCATE of the log fail on the key instead of on the append-only trigger.

Revision ID: 0002
Revises: 0001
Create Date: 2025-12-01
"""

import sqlalchemy as sa
from alembic import op

from harambee_common.migrations import protect_tenant_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("emergency_accesses", "emergency_reviews")


def upgrade() -> None:
    op.create_table(
        "emergency_accesses",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),  # the access's entry in the tenant's log
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("actor", sa.Text),
        sa.Column("client_id", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("accessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("emergency_accesses_by_age", "emergency_accesses", ["tenant_id", "accessed_at", "seq"])
    op.create_table(
        "emergency_reviews",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column(
            "decision", sa.Text, sa.CheckConstraint("decision IN ('signed_off', 'flagged')"), nullable=False
        ),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reviewed_by", sa.Text, nullable=False),
        sa.Column("reviewer_client_id", sa.Text, nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_seq", sa.BigInteger, nullable=False),  # the entry that records the decision
        sa.ForeignKeyConstraint(
            ["tenant_id", "seq"], ["emergency_accesses.tenant_id", "emergency_accesses.seq"]
        ),
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )
        protect_tenant_table(table, component="audit", privileges="SELECT, INSERT")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
