"""The person's rights (tracked requests with due dates), erasure marks, retention runs.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import protect_tenant_table

revision = "0009"
down_revision = "0008"

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("subjects", sa.Column("erased_at", Timestamp))
    op.alter_column("subjects", "wrapped_key", nullable=True)  # destroyed on erasure
    op.add_column("referrals", sa.Column("minimised_at", Timestamp))
    op.create_table(
        "rights_requests",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Uuid, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("received_at", Timestamp, nullable=False),
        sa.Column("due_at", Timestamp, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("sealed", JSONB),
        sa.Column("gaps", JSONB),
        sa.Column("last_attempt_at", Timestamp),
        sa.Column("closed_at", Timestamp),
        sa.Column("closed_by", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("rights_requests_due", "rights_requests", ["tenant_id", "status", "due_at"])
    op.create_index("rights_requests_subject", "rights_requests", ["tenant_id", "subject_id"])
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("ran_at", Timestamp, nullable=False),
        sa.Column("ran_by", sa.Text, nullable=False),
        sa.Column("report", JSONB, nullable=False),
    )
    op.create_index("retention_runs_tenant", "retention_runs", ["tenant_id", "ran_at"])
    op.create_index("referrals_retention", "referrals", ["tenant_id", "outcome", "screened_at"],
                    postgresql_where=sa.text("minimised_at IS NULL"))
    protect_tenant_table("rights_requests", component="intake", privileges="SELECT, INSERT, UPDATE")
    protect_tenant_table("retention_runs", component="intake", privileges="SELECT, INSERT")
    # Erasure blanks the officer's stated reason (it may name the person); the record that a
    # re-identification happened stays, and nothing else of it can change.
    op.execute('GRANT UPDATE (reason) ON reidentifications TO "intake_app"')
    # The retention scheduler runs per tenant, inside row-level security; this says which tenants exist.
    op.execute(
        """
        CREATE FUNCTION intake_tenants(max_tenants integer) RETURNS SETOF text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT DISTINCT tenant_id FROM referrals LIMIT max_tenants
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION intake_tenants(integer) FROM PUBLIC")
    op.execute('GRANT EXECUTE ON FUNCTION intake_tenants(integer) TO "intake_app"')


def downgrade() -> None:
    op.execute("DROP FUNCTION intake_tenants(integer)")
    op.execute('REVOKE UPDATE (reason) ON reidentifications FROM "intake_app"')
    op.drop_index("referrals_retention", "referrals")
    op.drop_table("retention_runs")
    op.drop_table("rights_requests")
    op.drop_column("referrals", "minimised_at")
    op.drop_column("subjects", "erased_at")
