"""Row-level security binds the owner role too: a migration or a tool run as the owner sees one tenant's rows.

Tables made from now on get this from protect_tenant_table; this forces it on the ones made before. The
two functions that tell the workers which tenants have work due read every tenant's heads by design, so
they now say so (tenant_lister).

Revision ID: 0006
"""

from harambee_common.migrations import force_row_level_security, tenant_lister, unforce_row_level_security

revision = "0006"
down_revision = "0005"

# Each function's signature and its query, as 0001 and 0003 defined them.
LISTERS = {
    "audit_checkpoints_due(max_age double precision)": """
        SELECT tenant_id FROM log_heads
        WHERE size > checkpoint_size
          AND (checkpoint_at IS NULL OR checkpoint_at <= now() - make_interval(secs => max_age))
    """,
    "audit_read_counts_due()": """
        SELECT h.tenant_id FROM log_heads h LEFT JOIN read_count_marks m USING (tenant_id)
        WHERE h.size > coalesce(m.counted, 0)
        ORDER BY h.tenant_id
    """,
}


def upgrade() -> None:
    force_row_level_security("audit")
    for signature, query in LISTERS.items():
        tenant_lister(signature, query=query)


def downgrade() -> None:
    for signature, query in LISTERS.items():
        tenant_lister(signature, query=query, across_tenants=False)
    unforce_row_level_security()
