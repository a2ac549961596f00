"""The append-only log: heads, entries, Merkle nodes, checkpoints, outbox and processed events.

Revision ID: 0001
Revises:
Create Date: 2025-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import create_outbox, create_processed_events, protect_tenant_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("entries", "merkle_nodes", "checkpoints")


def _hash_column(name: str) -> sa.Column:
    return sa.Column(name, sa.LargeBinary, sa.CheckConstraint(f"octet_length({name}) = 32"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "log_heads",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_leaf", sa.LargeBinary),
        sa.Column("frontier", sa.LargeBinary, nullable=False, server_default=sa.text("''::bytea")),
        sa.Column("checkpoint_size", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("checkpoint_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "entries",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.CheckConstraint("seq >= 0"), primary_key=True),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("actor", sa.Text),
        sa.Column("client_id", sa.Text),
        sa.Column("agreement", sa.Text),
        sa.Column("purpose", sa.Text),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("canonical", sa.LargeBinary, nullable=False),
        _hash_column("leaf_hash"),
        sa.UniqueConstraint("tenant_id", "event_id", name="entries_event_once"),
    )
    for name, column in (
        ("subject", "subject"),
        ("type", "type"),
        ("actor", "actor"),
        ("client", "client_id"),
        ("agreement", "agreement"),
    ):
        op.create_index(f"entries_by_{name}", "entries", ["tenant_id", column, "seq"])
    op.create_index("entries_by_time", "entries", ["tenant_id", "time"])
    op.create_table(
        "merkle_nodes",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("level", sa.SmallInteger, sa.CheckConstraint("level > 0"), primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True),
        _hash_column("hash"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("tree_size", sa.BigInteger, sa.CheckConstraint("tree_size > 0"), primary_key=True),
        _hash_column("root_hash"),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )

    # Grants are the first wall; the triggers hold even for a role that is later granted more.
    op.execute(
        """
        CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )
        protect_tenant_table(table, component="audit", privileges="SELECT, INSERT")

    # A head only moves forward: a rolled-back head would let entries be written over.
    op.execute(
        """
        CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'a log head is never deleted' USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.tenant_id <> OLD.tenant_id OR NEW.size < OLD.size
               OR NEW.checkpoint_size < OLD.checkpoint_size THEN
                RAISE EXCEPTION 'a log head only moves forward' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER log_heads_forward BEFORE UPDATE OR DELETE ON log_heads "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_forward()"
    )
    protect_tenant_table("log_heads", component="audit", privileges="SELECT, INSERT, UPDATE")

    # The checkpointer must find the tenants whose tails are unsigned without seeing their rows:
    # this function, run as the owner, returns tenant ids only.
    op.execute(
        """
        CREATE FUNCTION audit_checkpoints_due(max_age double precision) RETURNS SETOF text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT tenant_id FROM log_heads
            WHERE size > checkpoint_size
              AND (checkpoint_at IS NULL OR checkpoint_at <= now() - make_interval(secs => max_age))
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION audit_checkpoints_due(double precision) FROM PUBLIC")
    op.execute('GRANT EXECUTE ON FUNCTION audit_checkpoints_due(double precision) TO "audit_app"')

    create_outbox("audit")
    create_processed_events("audit")


def downgrade() -> None:
    op.execute("DROP FUNCTION audit_checkpoints_due(double precision)")
    for table in ("processed_events", "outbox", "checkpoints", "merkle_nodes", "entries", "log_heads"):
        op.drop_table(table)
    op.execute("DROP FUNCTION audit_head_forward()")
    op.execute("DROP FUNCTION audit_refuse_change()")
