"""Intervention tracking: catalogue, providers and vettings, plans and their versions, tasks, sessions,
progress, reviews, flags, follow-ups, tenant settings; consent on known cases; the agreement copy.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from harambee_common.agreements import create_agreement_copies
from harambee_common.migrations import protect_tenant_table, tenant_lister

revision = "0005"
down_revision = "0004"

COMPONENT = "interventions"
# The tenants where the flag check has something to look at: open plans, or follow-ups not yet recorded.
# A skip scan over the partial indexes below: one index probe per tenant, however many plans it holds.
TENANTS_WITH_WORK = "interventions_tenants_with_work()"
TENANTS_WITH_WORK_QUERY = """
    WITH RECURSIVE active(tenant_id) AS (
        SELECT min(tenant_id) FROM plans WHERE status = 'active'
        UNION ALL
        SELECT (SELECT min(p.tenant_id) FROM plans p WHERE p.status = 'active' AND p.tenant_id > active.tenant_id)
        FROM active WHERE active.tenant_id IS NOT NULL
    ), pending(tenant_id) AS (
        SELECT min(tenant_id) FROM follow_ups WHERE recorded_at IS NULL
        UNION ALL
        SELECT (SELECT min(f.tenant_id) FROM follow_ups f
                WHERE f.recorded_at IS NULL AND f.tenant_id > pending.tenant_id)
        FROM pending WHERE pending.tenant_id IS NOT NULL
    )
    SELECT tenant_id FROM active WHERE tenant_id IS NOT NULL
    UNION SELECT tenant_id FROM pending WHERE tenant_id IS NOT NULL
"""


def _at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.Text, nullable=False)


def upgrade() -> None:
    op.add_column("known_cases", sa.Column("consent_id", sa.Uuid))
    op.add_column("known_cases", sa.Column("assessment_id", sa.Uuid))
    op.add_column("known_cases", sa.Column("needs", ARRAY(sa.Text), nullable=False, server_default="{}"))
    op.add_column("known_cases", _at("consented_at", nullable=True))
    op.add_column("known_cases", _at("withdrawn_at", nullable=True))
    op.execute(f'GRANT UPDATE ON known_cases TO "{COMPONENT}_app"')

    op.create_table(
        "intervention_types",
        _tenant(),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False),
        _at("updated_at"),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "code"),
    )
    protect_tenant_table("intervention_types", component=COMPONENT, privileges="SELECT, INSERT, UPDATE")

    op.create_table(
        "intervention_settings",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("stall_days", sa.Integer, nullable=False),
        sa.Column("review_interval_months", sa.Integer, nullable=False),
        sa.Column("follow_up_months", ARRAY(sa.Integer), nullable=False),
        _at("updated_at"),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    protect_tenant_table("intervention_settings", component=COMPONENT, privileges="SELECT, INSERT, UPDATE")

    op.create_table(
        "providers",
        sa.Column("provider_id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("organisation", sa.Text, nullable=False),
        _at("registered_at"),
        sa.Column("registered_by", sa.Text, nullable=False),
        sa.UniqueConstraint("tenant_id", "organisation", name="providers_one_per_organisation"),
    )
    protect_tenant_table("providers", component=COMPONENT, privileges="SELECT, INSERT, UPDATE")

    op.create_table(
        "practitioners",
        sa.Column("practitioner_id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.provider_id"), nullable=False),
        sa.Column("person_id", sa.Uuid, nullable=False),
        _at("added_at"),
        sa.UniqueConstraint("tenant_id", "person_id", name="practitioners_one_provider_per_person"),
    )
    protect_tenant_table("practitioners", component=COMPONENT, privileges="SELECT, INSERT")

    op.create_table(
        "vettings",
        _tenant(),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.provider_id"), nullable=False),
        sa.Column("intervention_type", sa.Text, nullable=False),
        sa.Column("vetted_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
        _at("recorded_at"),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("provider_id", "intervention_type"),
    )
    protect_tenant_table("vettings", component=COMPONENT, privileges="SELECT, INSERT, UPDATE")

    op.create_table(
        "plans",
        sa.Column("plan_id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("case_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("subject_ref", sa.Uuid, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.Column("next_review_on", sa.Date, nullable=False),
        _at("last_reviewed_at", nullable=True),
        _at("prior_reviewed_at", nullable=True),
        sa.Column("exit_reason", sa.Text),
        sa.Column("closing_report", sa.Text),
        _at("ended_at", nullable=True),
        sa.CheckConstraint("status IN ('active', 'stopped', 'closed')", name="plan_status"),
    )
    op.create_index("plans_active_by_tenant", "plans", ["tenant_id", "next_review_on"],
                    postgresql_where=sa.text("status = 'active'"))
    op.create_index("plans_subject", "plans", ["tenant_id", "subject_ref"])
    protect_tenant_table("plans", component=COMPONENT, privileges="SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "plan_versions",
        sa.Column("plan_id", sa.Uuid, sa.ForeignKey("plans.plan_id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _tenant(),
        sa.Column("items", JSONB, nullable=False),
        _at("made_at"),
        sa.Column("made_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "version"),
    )
    protect_tenant_table("plan_versions", component=COMPONENT, privileges="SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "tasks",
        sa.Column("task_id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("plan_id", sa.Uuid, sa.ForeignKey("plans.plan_id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("subject_ref", sa.Uuid, nullable=False),
        sa.Column("reference", sa.Uuid, nullable=False),
        sa.Column("need", sa.Text, nullable=False),
        sa.Column("goal", sa.Text, nullable=False),
        sa.Column("intervention_type", sa.Text, nullable=False),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.provider_id"), nullable=False),
        sa.Column("practitioner_id", sa.Uuid, sa.ForeignKey("practitioners.practitioner_id")),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("expected_end_on", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("stop_reason", sa.Text),
        _at("created_at"),
        _at("ended_at", nullable=True),
        sa.Column("last_session_on", sa.Date),
        _at("last_progress_at", nullable=True),
        sa.CheckConstraint("status IN ('open', 'completed', 'ended', 'stopped')", name="task_status"),
    )
    # A provider's task list, newest first; and the flag check's open tasks.
    op.create_index("tasks_by_provider", "tasks", ["tenant_id", "provider_id", "created_at", "task_id"])
    op.create_index("tasks_by_practitioner", "tasks", ["tenant_id", "practitioner_id", "created_at", "task_id"],
                    postgresql_where=sa.text("practitioner_id IS NOT NULL"))
    op.create_index("tasks_open", "tasks", ["tenant_id", "plan_id"], postgresql_where=sa.text("status = 'open'"))
    op.create_index("tasks_of_plan", "tasks", ["plan_id"])
    protect_tenant_table("tasks", component=COMPONENT, privileges="SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "sessions",
        sa.Column("session_id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("task_id", sa.Uuid, sa.ForeignKey("tasks.task_id", ondelete="CASCADE"), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("attended", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text),
        _at("recorded_at"),
        sa.Column("recorded_by", sa.Text, nullable=False),
    )
    op.create_index("sessions_of_task", "sessions", ["task_id", "held_on"])
    protect_tenant_table("sessions", component=COMPONENT, privileges="SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "progress_updates",
        sa.Column("progress_id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("task_id", sa.Uuid, sa.ForeignKey("tasks.task_id", ondelete="CASCADE"), nullable=False),
        sa.Column("rating", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        _at("recorded_at"),
        sa.Column("recorded_by", sa.Text, nullable=False),
    )
    op.create_index("progress_of_task", "progress_updates", ["task_id", "recorded_at"])
    protect_tenant_table("progress_updates", component=COMPONENT, privileges="SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "reviews",
        sa.Column("review_id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("plan_id", sa.Uuid, sa.ForeignKey("plans.plan_id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("reviewed_on", sa.Date, nullable=False),
        sa.Column("goals", JSONB, nullable=False),
        sa.Column("plan_version", sa.Integer, nullable=False),
        sa.Column("plan_changed", sa.Boolean, nullable=False),
        sa.Column("reassessment_requested", sa.Boolean, nullable=False),
        sa.Column("next_review_on", sa.Date, nullable=False),
        sa.Column("note", sa.Text),
        _at("recorded_at"),
        sa.Column("recorded_by", sa.Text, nullable=False),
    )
    op.create_index("reviews_of_plan", "reviews", ["plan_id", "recorded_at"])
    protect_tenant_table("reviews", component=COMPONENT, privileges="SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "follow_ups",
        sa.Column("follow_up_id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("plan_id", sa.Uuid, sa.ForeignKey("plans.plan_id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("subject_ref", sa.Uuid, nullable=False),
        sa.Column("months_after_exit", sa.Integer, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        _at("recorded_at", nullable=True),
        sa.Column("recorded_by", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.Column("in_education_or_work", sa.Boolean),
        sa.Column("re_referred", sa.Boolean),
        sa.UniqueConstraint("plan_id", "months_after_exit", name="follow_ups_once_per_month_mark"),
    )
    op.create_index("follow_ups_pending", "follow_ups", ["tenant_id", "due_on"],
                    postgresql_where=sa.text("recorded_at IS NULL"))
    protect_tenant_table("follow_ups", component=COMPONENT, privileges="SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "flags",
        sa.Column("flag_id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("target_id", sa.Uuid, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("subject_ref", sa.Uuid, nullable=False),
        sa.Column("task_id", sa.Uuid),
        _at("raised_at"),
        _at("closed_at", nullable=True),
        sa.Column("action", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("closed_by", sa.Text),
        sa.CheckConstraint("(closed_at IS NULL) = (action IS NULL)", name="flag_closed_with_action"),
    )
    # At most one open flag of a kind per target; the check and the list read by these.
    op.create_index("flags_one_open", "flags", ["tenant_id", "kind", "target_id"], unique=True,
                    postgresql_where=sa.text("closed_at IS NULL"))
    op.create_index("flags_by_target", "flags", ["tenant_id", "target_id", "kind", "closed_at"])
    op.create_index("flags_listed", "flags", ["tenant_id", "raised_at", "flag_id"])
    protect_tenant_table("flags", component=COMPONENT, privileges="SELECT, INSERT, UPDATE, DELETE")

    create_agreement_copies(COMPONENT)
    tenant_lister(TENANTS_WITH_WORK, query=TENANTS_WITH_WORK_QUERY)
    op.execute(f"REVOKE ALL ON FUNCTION {TENANTS_WITH_WORK} FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION {TENANTS_WITH_WORK} TO "{COMPONENT}_app"')


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {TENANTS_WITH_WORK}")
    for table in ("agreement_copies", "flags", "follow_ups", "reviews", "progress_updates", "sessions", "tasks",
                  "plan_versions", "plans", "vettings", "practitioners", "providers", "intervention_settings",
                  "intervention_types"):
        op.drop_table(table)
    op.execute(f'REVOKE UPDATE ON known_cases FROM "{COMPONENT}_app"')
    for column in ("withdrawn_at", "consented_at", "needs", "assessment_id", "consent_id"):
        op.drop_column("known_cases", column)
