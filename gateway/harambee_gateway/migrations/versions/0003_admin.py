"""Registry administration: oversight, organisations in tenants, secret rotation, people and roles.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PERSON_ROLES = (
    "intake_officer",
    "case_worker",
    "panel_member",
    "intervention_provider",
    "programme_manager",
    "national_coordinator",
    "compliance_officer",
    "platform_admin",
)


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.drop_constraint("tenant_kind", "tenants")
    op.create_check_constraint("tenant_kind", "tenants", "kind IN ('county', 'national', 'platform')")
    op.add_column("tenants", sa.Column("oversees", ARRAY(sa.Text), nullable=False, server_default="{}"))
    op.add_column("tenants", sa.Column("require_totp", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("tenants", _created_at())

    op.drop_constraint("organisation_kind", "organisations")
    op.create_check_constraint(
        "organisation_kind", "organisations", "kind IN ('cso', 'agency', 'programme', 'provider')"
    )
    op.add_column("organisations", sa.Column("tenants", ARRAY(sa.Text), nullable=False, server_default="{}"))
    op.add_column("organisations", _created_at())

    op.add_column("clients", sa.Column("previous_secret_hash", sa.Text))
    op.add_column("clients", sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True)))

    op.create_table(
        "people",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("username", sa.Text, nullable=False, unique=True),
        sa.Column("display_name", sa.Text),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("organisation_id", sa.Uuid, sa.ForeignKey("organisations.id")),
        _created_at(),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "person_roles",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("tenant", sa.Text, sa.ForeignKey("tenants.slug"), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in PERSON_ROLES) + ")", name="person_role"
        ),
    )
    # A role is held once at a time; a revoked one may be granted again.
    op.create_index(
        "person_roles_current",
        "person_roles",
        ["person_id", "tenant", "role"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    for table in ("people", "person_roles"):
        op.execute(f'GRANT SELECT, INSERT, UPDATE ON {table} TO "gateway_app"')


def downgrade() -> None:
    op.drop_table("person_roles")
    op.drop_table("people")
    op.drop_column("clients", "previous_secret_expires_at")
    op.drop_column("clients", "previous_secret_hash")
    for column in ("created_at", "tenants"):
        op.drop_column("organisations", column)
    for column in ("created_at", "require_totp", "oversees"):
        op.drop_column("tenants", column)
