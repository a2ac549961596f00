"""Partner webhooks: subscriptions (secrets sealed), a delivery queue, and the attempt log.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import protect_tenant_table

revision = "0007"
down_revision = "0006"

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("organisation", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("wrapped_secret", sa.LargeBinary, nullable=False),
        sa.Column("key_generation", sa.Integer, nullable=False),
        sa.Column("kek_id", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("disabled_at", Timestamp),
    )
    op.create_index("webhook_subscriptions_org", "webhook_subscriptions", ["tenant_id", "organisation"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.Uuid, sa.ForeignKey("webhook_subscriptions.id"), nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", Timestamp),
        sa.Column("leased_until", Timestamp),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("delivered_at", Timestamp),
    )
    op.create_index("webhook_deliveries_due", "webhook_deliveries", ["next_attempt_at"],
                    postgresql_where=sa.text("state = 'pending'"))
    op.create_index("webhook_deliveries_subscription", "webhook_deliveries",
                    ["tenant_id", "subscription_id", "created_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("delivery_id", sa.Uuid, sa.ForeignKey("webhook_deliveries.id"), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Integer, nullable=False),
    )
    op.create_index("webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "attempt"])
    protect_tenant_table("webhook_subscriptions", component="intake", privileges="SELECT, INSERT, UPDATE")
    protect_tenant_table("webhook_deliveries", component="intake", privileges="SELECT, INSERT, UPDATE")
    protect_tenant_table("webhook_attempts", component="intake", privileges="SELECT, INSERT")
    # The dispatcher serves every tenant but works inside one tenant's row-level security at a time:
    # this function (run as the owner) tells it only which tenants have deliveries due.
    op.execute(
        """
        CREATE FUNCTION intake_webhook_tenants_due(max_tenants integer) RETURNS SETOF text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT DISTINCT tenant_id FROM webhook_deliveries
            WHERE state = 'pending' AND next_attempt_at <= now()
              AND (leased_until IS NULL OR leased_until < now())
            LIMIT max_tenants
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION intake_webhook_tenants_due(integer) FROM PUBLIC")
    op.execute('GRANT EXECUTE ON FUNCTION intake_webhook_tenants_due(integer) TO "intake_app"')


def downgrade() -> None:
    op.execute("DROP FUNCTION intake_webhook_tenants_due(integer)")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
