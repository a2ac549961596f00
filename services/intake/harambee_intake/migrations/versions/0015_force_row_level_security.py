"""Row-level security binds the owner role too: a migration or a tool run as the owner sees one tenant's rows.

Tables made from now on get this from protect_tenant_table; this forces it on the ones made before. The
owner's functions that cross tenants by design now say so: the two that tell the workers which tenants
have work due (tenant_lister), and intake_move_subject, the one narrow crossing that gives a subject row
to another county (see 0011), which sets the owner's opt-in for its own statement only.

Revision ID: 0015
"""

from alembic import op

from harambee_common.migrations import (
    ALL_TENANTS_SETTING,
    force_row_level_security,
    tenant_lister,
    unforce_row_level_security,
)

revision = "0015"
down_revision = "0014"

# Each function's signature and its query, as 0007 and 0009 defined them.
LISTERS = {
    "intake_webhook_tenants_due(max_tenants integer)": """
        SELECT DISTINCT tenant_id FROM webhook_deliveries
        WHERE state = 'pending' AND next_attempt_at <= now()
          AND (leased_until IS NULL OR leased_until < now())
        LIMIT max_tenants
    """,
    "intake_tenants(max_tenants integer)": "SELECT DISTINCT tenant_id FROM referrals LIMIT max_tenants",
}

MOVE_SIGNATURE = "intake_move_subject(subject uuid, to_tenant text, wrapped bytea, generation integer, kek text)"
# 0011's statement: only a row of the calling transaction's tenant, only to another tenant.
MOVE = """
    WITH moved AS (
        UPDATE subjects
        SET tenant_id = to_tenant, wrapped_key = wrapped, key_generation = generation,
            kek_id = kek, version = version + 1
        WHERE id = subject
          AND tenant_id = current_setting('app.tenant_id', true)
          AND to_tenant IS NOT NULL AND to_tenant <> tenant_id
        RETURNING id
    )
"""


def upgrade() -> None:
    force_row_level_security("intake")
    for signature, query in LISTERS.items():
        tenant_lister(signature, query=query)
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {MOVE_SIGNATURE} RETURNS boolean
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            previous text := current_setting('{ALL_TENANTS_SETTING}', true);
            done boolean;
        BEGIN
            PERFORM set_config('{ALL_TENANTS_SETTING}', 'on', true);
            {MOVE} SELECT count(*) = 1 INTO done FROM moved;
            PERFORM set_config('{ALL_TENANTS_SETTING}', coalesce(previous, ''), true);
            RETURN done;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {MOVE_SIGNATURE} RETURNS boolean
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            {MOVE} SELECT count(*) = 1 FROM moved
        $$
        """
    )
    for signature, query in LISTERS.items():
        tenant_lister(signature, query=query, across_tenants=False)
    unforce_row_level_security()
