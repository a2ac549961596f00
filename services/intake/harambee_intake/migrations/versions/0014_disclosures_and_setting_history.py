"""What an access export gave and withheld; the history of the tenant's settings and coded lists.

An access export gives the person their own data; what is about the referrer or other people is withheld
unless an intake officer releases it field by field, with a reason (sealed under the person's key, so an
erasure takes it too). Each export is recorded here: who made it, what it released and what it withheld,
by reference and field name. Every change to a tenant setting or coded list keeps the value it replaced,
who changed it and when: the escalation contact in force on a day can be answered afterwards.

Revision ID: 0014
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from harambee_common.migrations import protect_tenant_table

revision = "0014"
down_revision = "0013"

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "access_exports",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("request_id", sa.Uuid, sa.ForeignKey("rights_requests.id"), nullable=False),
        sa.Column("subject_id", sa.Uuid, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("generated_at", Timestamp, nullable=False),
        sa.Column("generated_by", sa.Text, nullable=False),
        sa.Column("released", JSONB, nullable=False),
        sa.Column("withheld", JSONB, nullable=False),
        sa.Column("sealed", JSONB),
    )
    op.create_index("access_exports_request", "access_exports", ["tenant_id", "request_id"])
    protect_tenant_table("access_exports", component="intake", privileges="SELECT, INSERT")
    # Erasure and transfer forget what is sealed under the person's key; nothing else of the record changes.
    op.execute('GRANT UPDATE (sealed) ON access_exports TO "intake_app"')
    op.create_table(
        "setting_changes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),  # setting or vocabulary
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("previous", JSONB),
        sa.Column("value", JSONB),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", Timestamp, nullable=False),
    )
    op.create_index("setting_changes_newest", "setting_changes", ["tenant_id", "changed_at", "id"])
    protect_tenant_table("setting_changes", component="intake", privileges="SELECT, INSERT")


def downgrade() -> None:
    op.drop_table("setting_changes")
    op.drop_table("access_exports")
