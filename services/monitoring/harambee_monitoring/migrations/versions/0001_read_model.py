"""The read model, population figures, privacy spends, agreement copies, the outbox and consumed events.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from harambee_common.agreements import create_agreement_copies
from harambee_common.migrations import (
    create_outbox,
    create_processed_events,
    notify_outbox,
    protect_tenant_table,
    tenant_lister,
)

revision = "0001"
down_revision = None

COMPONENT = "monitoring"


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True))


def upgrade() -> None:
    op.create_table(
        "referral_facts",
        sa.Column("referral_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        _timestamp("received_at"),
        sa.Column("source_type", sa.Text),
        sa.Column("age_band", sa.Text),
        sa.Column("gender", sa.Text),
        sa.Column("is_minor", sa.Boolean),
        sa.Column("concern_types", ARRAY(sa.Text)),
        sa.Column("indicators", ARRAY(sa.Text)),
        sa.Column("repeat_referral", sa.Boolean),
        _timestamp("screened_at"),
        sa.Column("screening_outcome", sa.Text),
    )
    op.create_index("referral_facts_tenant_received", "referral_facts", ["tenant_id", "received_at"])
    op.create_table(
        "case_facts",
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("referral_id", sa.Uuid),
        _timestamp("opened_at"),
        _timestamp("assessed_at"),
        _timestamp("decided_at"),
        sa.Column("decision", sa.Text),
        _timestamp("consented_at"),
        _timestamp("withdrawn_at"),
        _timestamp("planned_at"),
        sa.Column("intervention_types", ARRAY(sa.Text)),
        sa.Column("first_session_on", sa.Date),
        _timestamp("closed_at"),
        sa.Column("exit_reason", sa.Text),
        sa.Column("follow_up_6", sa.Text),
        sa.Column("follow_up_12", sa.Text),
    )
    op.create_index("case_facts_referral", "case_facts", ["referral_id"])
    op.create_table(
        "reassessments",
        sa.Column("assessment_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items_compared", sa.Integer, nullable=False),
        sa.Column("items_improved", sa.Integer, nullable=False),
        sa.Column("items_worsened", sa.Integer, nullable=False),
    )
    op.create_index("reassessments_tenant_approved", "reassessments", ["tenant_id", "approved_at"])
    op.create_table(
        "population_figures",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("dimension", sa.Text, primary_key=True),
        sa.Column("group_key", sa.Text, primary_key=True),
        sa.Column("population", sa.BigInteger, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "disparity_settings",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("threshold", sa.Numeric(6, 2), nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "privacy_spends",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("agreement_id", sa.Uuid, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("indicator", sa.Text, nullable=False),
        sa.Column("epsilon", sa.Float, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("privacy_spends_budget", "privacy_spends", ["tenant_id", "agreement_id", "period"])
    facts = "SELECT, INSERT, UPDATE"
    protect_tenant_table("referral_facts", component=COMPONENT, privileges=facts)
    protect_tenant_table("case_facts", component=COMPONENT, privileges=facts)
    protect_tenant_table("reassessments", component=COMPONENT, privileges="SELECT, INSERT")
    protect_tenant_table("population_figures", component=COMPONENT, privileges="SELECT, INSERT, UPDATE, DELETE")
    protect_tenant_table("disparity_settings", component=COMPONENT, privileges=facts)
    # Spends are never changed or taken back: the budget only goes down.
    protect_tenant_table("privacy_spends", component=COMPONENT, privileges="SELECT, INSERT")
    create_agreement_copies(COMPONENT)
    # The national programme's read names the counties whose agreements name it, and nothing else of them.
    tenant_lister(
        "tenants_sharing_with(party text)",
        query="SELECT DISTINCT tenant_id FROM agreement_copies "
              "WHERE terms->'parties' @> jsonb_build_array(jsonb_build_object('kind', 'tenant', 'id', party))",
    )
    op.execute('GRANT EXECUTE ON FUNCTION tenants_sharing_with(text) TO "monitoring_app"')
    create_outbox(COMPONENT)
    notify_outbox()
    create_processed_events(COMPONENT)


def downgrade() -> None:
    op.execute("DROP FUNCTION tenants_sharing_with(text)")
    for table in ("processed_events", "outbox", "agreement_copies", "privacy_spends", "disparity_settings",
                  "population_figures", "reassessments", "case_facts", "referral_facts"):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
