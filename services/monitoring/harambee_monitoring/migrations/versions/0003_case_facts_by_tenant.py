"""A county's cases found by its tenant: every indicator joins a county's referrals to its cases, and without this
index the join read every county's cases (a scan of the whole table per county, so a national read over n counties
cost n scans of all of them).

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_index("case_facts_tenant_referral", "case_facts", ["tenant_id", "referral_id"])


def downgrade() -> None:
    op.drop_index("case_facts_tenant_referral", table_name="case_facts")
