"""The vault: key generations for rotation, blind indexes, duplicate candidates, merges, re-identifications.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import protect_tenant_table

revision = "0005"
down_revision = "0004"

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("subjects", sa.Column("key_generation", sa.Integer, nullable=False, server_default="0"))
    op.add_column("subjects", sa.Column("kek_id", sa.Text))
    op.add_column("subjects", sa.Column("merged_into", sa.Uuid, sa.ForeignKey("subjects.id")))
    op.add_column("subjects", sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.create_index("subjects_merged_into", "subjects", ["merged_into"],
                    postgresql_where=sa.text("merged_into IS NOT NULL"))
    op.create_index("subjects_key_generation", "subjects", ["tenant_id", "key_generation", "kek_id"])

    op.create_table(
        "tenant_keys",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("kek_id", sa.Text, nullable=False),
        sa.Column("rotated_by", sa.Text, nullable=False),
        sa.Column("rotated_at", Timestamp, nullable=False),
    )
    op.create_table(
        "subject_index",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Uuid, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("digest", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "kind", "digest"),
    )
    # Covering: a lookup reads the index alone, never the table.
    op.create_index("subject_index_lookup", "subject_index", ["tenant_id", "digest"],
                    postgresql_include=["subject_id", "kind"])
    op.create_table(
        "duplicate_candidates",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Uuid, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("candidate_id", sa.Uuid, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.id"), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("signals", JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("found_at", Timestamp, nullable=False),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_at", Timestamp),
        sa.PrimaryKeyConstraint("subject_id", "candidate_id"),
    )
    op.create_index("duplicate_candidates_candidate", "duplicate_candidates", ["candidate_id"])
    op.create_table(
        "subject_merges",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("source_id", sa.Uuid, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("target_id", sa.Uuid, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("merged_by", sa.Text, nullable=False),
        sa.Column("merged_at", Timestamp, nullable=False),
        sa.Column("unmerge_reason", sa.Text),
        sa.Column("unmerged_by", sa.Text),
        sa.Column("unmerged_at", Timestamp),
    )
    op.create_index("subject_merges_source", "subject_merges", ["tenant_id", "source_id"])
    op.create_table(
        "reidentifications",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Uuid, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("client_id", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", Timestamp, nullable=False),
    )
    op.create_index("reidentifications_subject", "reidentifications", ["tenant_id", "subject_id", "at"])
    protect_tenant_table("tenant_keys", component="intake", privileges="SELECT, INSERT, UPDATE")
    protect_tenant_table("subject_index", component="intake", privileges="SELECT, INSERT, DELETE")
    protect_tenant_table("duplicate_candidates", component="intake",
                         privileges="SELECT, INSERT, UPDATE, DELETE")
    protect_tenant_table("subject_merges", component="intake", privileges="SELECT, INSERT, UPDATE")
    # Re-identifications are an audit trail: the service may add to it, never change it.
    protect_tenant_table("reidentifications", component="intake", privileges="SELECT, INSERT")


def downgrade() -> None:
    for table in ("reidentifications", "subject_merges", "duplicate_candidates", "subject_index",
                  "tenant_keys"):
        op.drop_table(table)
    op.drop_index("subjects_key_generation", "subjects")
    op.drop_index("subjects_merged_into", "subjects")
    for column in ("version", "merged_into", "kek_id", "key_generation"):
        op.drop_column("subjects", column)
