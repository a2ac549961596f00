"""Read-volume alerts: reads per actor per day, how far the count has got through the log, and the alerts.

Revision ID: 0003
Revises: 0002
Create Date: 2025-12-01
"""

import sqlalchemy as sa
from alembic import op

from harambee_common.migrations import protect_tenant_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "read_counts",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("actor", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "read_count_marks",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        # Entries [0, counted) of the tenant's log are in read_counts.
        sa.Column("counted", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "read_alerts",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("baseline", sa.Float, nullable=False),  # the trailing daily median
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, sa.CheckConstraint("status IN ('open', 'closed')"), nullable=False),
        sa.Column("closed_by", sa.Text),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text),
        sa.Column("log_seq", sa.BigInteger),  # the entry that records the closing
        sa.UniqueConstraint("tenant_id", "actor", "day", name="read_alerts_once_a_day"),
    )
    op.create_index("read_alerts_by_status", "read_alerts", ["tenant_id", "status", "raised_at", "id"])
    for table in ("read_counts", "read_count_marks", "read_alerts"):
        protect_tenant_table(table, component="audit", privileges="SELECT, INSERT, UPDATE")
    # A closed alert stays closed, and a closing is never rewritten.
    op.execute(
        """
        CREATE FUNCTION audit_alert_closed_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.status = 'closed' AND (NEW.status, NEW.closed_by, NEW.closed_at, NEW.note, NEW.log_seq)
               IS DISTINCT FROM (OLD.status, OLD.closed_by, OLD.closed_at, OLD.note, OLD.log_seq) THEN
                RAISE EXCEPTION 'a closed alert is not reopened or rewritten'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER read_alerts_closed_once BEFORE UPDATE ON read_alerts "
        "FOR EACH ROW EXECUTE FUNCTION audit_alert_closed_once()"
    )
    # Like audit_checkpoints_due: the job finds the tenants with uncounted entries without seeing rows.
    op.execute(
        """
        CREATE FUNCTION audit_read_counts_due() RETURNS SETOF text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT h.tenant_id FROM log_heads h LEFT JOIN read_count_marks m USING (tenant_id)
            WHERE h.size > coalesce(m.counted, 0)
            ORDER BY h.tenant_id
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION audit_read_counts_due() FROM PUBLIC")
    op.execute('GRANT EXECUTE ON FUNCTION audit_read_counts_due() TO "audit_app"')


def downgrade() -> None:
    op.execute("DROP FUNCTION audit_read_counts_due()")
    for table in ("read_alerts", "read_count_marks", "read_counts"):
        op.drop_table(table)
    op.execute("DROP FUNCTION audit_alert_closed_once()")
