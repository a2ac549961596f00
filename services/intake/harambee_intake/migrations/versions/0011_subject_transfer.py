"""Moving a person's subject row to another county when their case is transferred.

Row-level security lets a transaction see and change only the rows of the tenant it is scoped to, and
its WITH CHECK forbids giving a row another tenant: no plain UPDATE can move a subject. This function
is the one narrow crossing. It runs as the owner (who is not subject to row-level security), and only
gives away a row of the tenant the calling transaction is scoped to; it never takes one. Whether the
move is allowed (an agreement in force) is decided by the service before it calls it.

Revision ID: 0011
"""

from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION intake_move_subject(
            subject uuid, to_tenant text, wrapped bytea, generation integer, kek text
        ) RETURNS boolean
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            WITH moved AS (
                UPDATE subjects
                SET tenant_id = to_tenant, wrapped_key = wrapped, key_generation = generation,
                    kek_id = kek, version = version + 1
                WHERE id = subject
                  AND tenant_id = current_setting('app.tenant_id', true)
                  AND to_tenant IS NOT NULL AND to_tenant <> tenant_id
                RETURNING id
            )
            SELECT count(*) = 1 FROM moved
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION intake_move_subject(uuid, text, bytea, integer, text) FROM PUBLIC")
    op.execute('GRANT EXECUTE ON FUNCTION intake_move_subject(uuid, text, bytea, integer, text) TO "intake_app"')


def downgrade() -> None:
    op.execute("DROP FUNCTION intake_move_subject(uuid, text, bytea, integer, text)")
