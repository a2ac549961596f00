"""Case transfers between counties, and cases that can be minimised once transferred.

A transferred case keeps only its id, status, dates and the transfer's reference, so its subject and
referral references become nullable; a case received by transfer has no referral in its tenant.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

from harambee_common.migrations import protect_tenant_table

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.alter_column("cases", "subject_ref", nullable=True)
    op.alter_column("cases", "referral_id", nullable=True)
    op.add_column("cases", sa.Column("closed_at", sa.DateTime(timezone=True)))
    op.add_column("cases", sa.Column("transfer_id", sa.Uuid))
    op.add_column("cases", sa.Column("transferred_from", sa.Uuid))

    # One transfer has a row in each tenant: outgoing in the sender's, incoming in the receiver's.
    op.create_table(
        "case_transfers",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("subject_ref", sa.Uuid),
        sa.Column("from_tenant", sa.Text, nullable=False),
        sa.Column("to_tenant", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("agreement_id", sa.Uuid),
        sa.Column("agreement_version", sa.Integer),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_reason", sa.Text),
        sa.Column("decision_note", sa.Text),
        sa.Column("received_case_id", sa.Uuid),
        sa.CheckConstraint("direction IN ('outgoing', 'incoming')", name="case_transfers_direction"),
        sa.CheckConstraint("status IN ('proposed', 'accepted', 'refused')", name="case_transfers_status"),
        sa.CheckConstraint("from_tenant <> to_tenant", name="case_transfers_two_tenants"),
    )
    op.create_index("case_transfers_tenant_proposed", "case_transfers", ["tenant_id", "proposed_at", "id"])
    # At most one proposal in flight per case.
    op.create_index(
        "case_transfers_one_pending", "case_transfers", ["tenant_id", "case_id"], unique=True,
        postgresql_where=sa.text("direction = 'outgoing' AND status = 'proposed'"),
    )
    protect_tenant_table("case_transfers", component="assessment", privileges="SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_table("case_transfers")
    op.drop_column("cases", "transferred_from")
    op.drop_column("cases", "transfer_id")
    op.drop_column("cases", "closed_at")
    op.alter_column("cases", "referral_id", nullable=False)
    op.alter_column("cases", "subject_ref", nullable=False)
