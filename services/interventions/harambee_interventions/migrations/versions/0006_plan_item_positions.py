"""Plan items keep the order they were given in: each task's index in the items of the request that made it.

Items made together share their creation time, which cannot order them (the task id then did, at random).
A plan lists its tasks oldest first and, among those made together, by `position`. Existing tasks get
theirs from the version that made them (`plan_versions.items`, stored in the order given; a version is
made at the same moment as its new tasks).

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

from harambee_common.migrations import all_tenants

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    # A row written without one (a bulk load) is ordered by its id among those made with it, as before.
    op.add_column("tasks", sa.Column("position", sa.Integer, nullable=False, server_default="0"))
    all_tenants()  # a data migration: every tenant's plans
    op.execute(
        """
        UPDATE tasks t SET position = named.ordinality - 1
        FROM plan_versions v, LATERAL jsonb_array_elements(v.items) WITH ORDINALITY AS named(item, ordinality)
        WHERE v.plan_id = t.plan_id AND v.made_at = t.created_at AND (named.item ->> 'task_id')::uuid = t.task_id
        """
    )


def downgrade() -> None:
    op.drop_column("tasks", "position")
