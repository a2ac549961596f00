"""People may hold the `assessor` role: county staff who assess the cases assigned to them.

Revision ID: 0011
"""

from alembic import op

revision = "0011"
down_revision = "0010"

BEFORE = ("intake_officer", "case_worker", "panel_member", "intervention_provider", "programme_manager",
          "national_coordinator", "compliance_officer", "platform_admin")
AFTER = (*BEFORE, "assessor")


def _allow(roles: tuple[str, ...]) -> None:
    op.drop_constraint("person_role", "person_roles", type_="check")
    op.create_check_constraint("person_role", "person_roles", "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")")


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    _allow(BEFORE)
