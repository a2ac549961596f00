"""Information requests, frameworks, assessments, the panel and consent to support (lifecycle steps 3 to 6).

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from harambee_common.migrations import protect_tenant_table

revision = "0006"
down_revision = "0005"

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("cases", sa.Column("referring_organisation", sa.Text))
    op.add_column("cases", sa.Column("reassessment_due_on", sa.Date))
    op.add_column("cases", sa.Column("reassessment_reason", sa.Text))
    op.add_column("cases", sa.Column("consent_id", sa.Uuid))
    # Due reassessments page by date: a partial index holds only the cases that have one.
    op.create_index("cases_reassessment_due", "cases", ["tenant_id", "reassessment_due_on", "id"],
                    postgresql_where=sa.text("reassessment_due_on IS NOT NULL"))
    op.create_index("cases_subject", "cases", ["tenant_id", "subject_ref"])

    op.create_table(
        "assessment_settings",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("four_eyes", sa.Boolean, nullable=False),
        sa.Column("panel_quorum", sa.Integer, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint("panel_quorum BETWEEN 1 AND 50", name="assessment_settings_quorum"),
    )
    op.create_table(
        "case_assignments",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("assessor", sa.Text, primary_key=True),
        sa.Column("assigned_by", sa.Text, nullable=False),
        sa.Column("assigned_at", WHEN, nullable=False),
    )
    op.create_index("case_assignments_assessor", "case_assignments", ["tenant_id", "assessor", "case_id"])
    op.create_table(
        "information_requests",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("organisation", sa.Text, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("data_categories", ARRAY(sa.Text), nullable=False),
        sa.Column("agreement_id", sa.Uuid, nullable=False),
        sa.Column("agreement_version", sa.Integer, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("shares_concern", sa.Text),
        sa.Column("knowledge", sa.Text),
        sa.Column("attachments", ARRAY(sa.Text)),
        sa.Column("answered_by", sa.Text),
        sa.Column("answered_at", WHEN),
        sa.CheckConstraint("status IN ('open', 'answered')", name="information_requests_status"),
    )
    op.create_index("information_requests_case", "information_requests", ["tenant_id", "case_id", "requested_at"])
    op.create_index("information_requests_addressee", "information_requests",
                    ["tenant_id", "organisation", "due_on", "id"])
    op.create_index("information_requests_open_due", "information_requests", ["tenant_id", "due_on", "id"],
                    postgresql_where=sa.text("status = 'open'"))
    op.create_table(
        "frameworks",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.UniqueConstraint("tenant_id", "code", name="frameworks_code"),
    )
    op.create_table(
        "framework_versions",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("framework_id", sa.Uuid, sa.ForeignKey("frameworks.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("published_at", WHEN),
        sa.CheckConstraint("status IN ('draft', 'published')", name="framework_versions_status"),
    )
    op.create_table(
        "assessments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("framework_id", sa.Uuid, nullable=False),
        sa.Column("framework_version", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("ratings", JSONB, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("management_plan", sa.Text),
        sa.Column("needs", ARRAY(sa.Text), nullable=False),
        sa.Column("started_by", sa.Text, nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("submitted_by", sa.Text),
        sa.Column("submitted_at", WHEN),
        sa.Column("approved_by", sa.Text),
        sa.Column("approved_at", WHEN),
        sa.Column("supersedes", sa.Uuid),
        sa.Column("superseded_by", sa.Uuid),
        sa.Column("returned_reason", sa.Text),
        sa.ForeignKeyConstraint(["framework_id", "framework_version"],
                                ["framework_versions.framework_id", "framework_versions.version"]),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'approved', 'superseded')", name="assessments_status"),
    )
    op.create_index("assessments_case", "assessments", ["tenant_id", "case_id", "started_at", "id"])
    # One assessment in the making and one approved per case at a time.
    op.create_index("assessments_one_open", "assessments", ["tenant_id", "case_id"], unique=True,
                    postgresql_where=sa.text("status IN ('draft', 'submitted')"))
    op.create_index("assessments_one_approved", "assessments", ["tenant_id", "case_id"], unique=True,
                    postgresql_where=sa.text("status = 'approved'"))
    op.create_table(
        "assessment_contributions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("assessment_id", sa.Uuid, sa.ForeignKey("assessments.id"), nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("organisation", sa.Text),
        sa.Column("ratings", JSONB, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("contributed_at", WHEN, nullable=False),
    )
    op.create_index("assessment_contributions_assessment", "assessment_contributions",
                    ["tenant_id", "assessment_id", "contributed_at"])
    op.create_table(
        "panel_meetings",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("chair", sa.Text, nullable=False),
        sa.Column("attendees", JSONB, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index("panel_meetings_held", "panel_meetings", ["tenant_id", "held_on", "id"])
    op.create_table(
        "panel_agenda_items",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("meeting_id", sa.Uuid, sa.ForeignKey("panel_meetings.id"), primary_key=True),
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("added_at", WHEN, nullable=False),
    )
    op.create_index("panel_agenda_items_case", "panel_agenda_items", ["tenant_id", "case_id"])
    op.create_table(
        "panel_attendance",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("meeting_id", sa.Uuid, sa.ForeignKey("panel_meetings.id"), primary_key=True),
        sa.Column("person", sa.Text, primary_key=True),
        sa.Column("agency", sa.Text, nullable=False),
    )
    op.create_index("panel_attendance_person", "panel_attendance", ["tenant_id", "person", "meeting_id"])
    op.create_table(
        "panel_decisions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("meeting_id", sa.Uuid, sa.ForeignKey("panel_meetings.id"), nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("assessment_id", sa.Uuid, sa.ForeignKey("assessments.id"), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("referred_to", sa.Text),
        sa.Column("dissent", JSONB, nullable=False),
        sa.Column("next_review_on", sa.Date),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("decided_at", WHEN, nullable=False),
        sa.UniqueConstraint("meeting_id", "case_id", name="panel_decisions_once_per_meeting"),
        sa.CheckConstraint("outcome IN ('adopt', 'decline', 'signpost', 'escalate')", name="panel_decisions_outcome"),
    )
    op.create_index("panel_decisions_case", "panel_decisions", ["tenant_id", "case_id", "decided_at"])
    op.create_table(
        "support_consents",
        sa.Column("consent_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject_ref", sa.Uuid, nullable=False),
        sa.Column("given_by", sa.Text, nullable=False),
        sa.Column("given_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN),
        sa.Column("withdrawn_at", WHEN),
    )
    op.create_index("support_consents_subject", "support_consents", ["tenant_id", "subject_ref"])
    for table in ("assessment_settings", "case_assignments", "information_requests", "frameworks",
                  "framework_versions", "assessments", "assessment_contributions", "panel_meetings",
                  "panel_agenda_items", "panel_attendance", "panel_decisions", "support_consents"):
        protect_tenant_table(table, component="assessment", privileges="SELECT, INSERT, UPDATE")


def downgrade() -> None:
    for table in ("support_consents", "panel_decisions", "panel_attendance", "panel_agenda_items", "panel_meetings",
                  "assessment_contributions", "assessments", "framework_versions", "frameworks",
                  "information_requests", "case_assignments", "assessment_settings"):
        op.drop_table(table)
    op.drop_index("cases_subject", "cases")
    op.drop_index("cases_reassessment_due", "cases")
    for column in ("consent_id", "reassessment_reason", "reassessment_due_on", "referring_organisation"):
        op.drop_column("cases", column)
