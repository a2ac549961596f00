"""Which tenants still hold merge or re-identification reasons in clear (sealed by the service, see 0017).

The service seals them itself (subjects/reason_sealing.py), tenant by tenant; this function tells it
which tenants have any left, and nothing else. A row whose subject was erased, or moved to another
county, holds its marker rather than a reason and is not counted.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

from harambee_common.migrations import tenant_lister

revision = "0018"
down_revision = "0017"

SIGNATURE = "intake_tenants_with_clear_reasons(max_tenants integer)"
QUERY = """
    SELECT tenant_id FROM (
        SELECT m.tenant_id FROM subject_merges m JOIN subjects s ON s.id = m.source_id
        WHERE m.sealed IS NULL AND m.reason IS NOT NULL AND s.wrapped_key IS NOT NULL
          AND s.tenant_id = m.tenant_id
        UNION
        SELECT r.tenant_id FROM reidentifications r JOIN subjects s ON s.id = r.subject_id
        WHERE r.sealed IS NULL AND r.reason IS NOT NULL AND s.wrapped_key IS NOT NULL
          AND s.tenant_id = r.tenant_id
    ) AS pending LIMIT max_tenants
"""


def upgrade() -> None:
    tenant_lister(SIGNATURE, query=QUERY)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
