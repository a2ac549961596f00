"""Row-level security is the second wall: every table of every component that holds a tenant's rows has it.

Read from each migrated database itself, so a table added by a new migration joins the check by itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from harambee_common.components import COMPONENTS
from harambee_common.migrations import upgrade
from tests.support.services import rows

# A policy keyed on the tenant the transaction was scoped to (harambee_common.db.set_tenant).
TENANT_SETTING = "current_setting('app.tenant_id'"

TENANT_TABLES = """
    SELECT c.table_name AS name, k.relrowsecurity AS enabled, k.relforcerowsecurity AS forced
    FROM information_schema.columns c
    JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = 'public'::regnamespace
    WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND k.relkind IN ('r', 'p')
    ORDER BY 1
"""
POLICIES = "SELECT tablename, policyname, roles, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public'"


@pytest.fixture(scope="module", params=[c.name for c in COMPONENTS])
def migrated(request: Any, postgres: Any) -> tuple[str, Any]:
    """A component's database at its latest migration."""
    database = postgres.provision(request.param)
    upgrade(package=f"harambee_{request.param}", url=database.owner)
    return request.param, database


def test_every_table_with_a_tenant_id_has_row_level_security_with_a_tenant_policy(migrated: tuple[str, Any]) -> None:
    component, database = migrated
    tables = rows(database.owner, TENANT_TABLES)
    if component != "gateway":  # the gateway's registry is platform data; every service holds tenants' rows
        assert tables, f"{component}: no table has a tenant_id column"
    policies: dict[str, list[Any]] = {}
    for policy in rows(database.owner, POLICIES):
        policies.setdefault(policy.tablename, []).append(policy)
    app_role = f"{component}_app"
    for table in tables:
        assert table.enabled, f"{component}.{table.name}: row-level security is not enabled"
        assert table.forced, f"{component}.{table.name}: row-level security does not bind the owner (FORCE)"
        scoped = [
            p for p in policies.get(table.name, [])
            if p.cmd == "ALL" and set(p.roles) & {"public", app_role}
            and all("tenant_id" in (clause or "") and TENANT_SETTING in (clause or "")
                    for clause in (p.qual, p.with_check))
        ]
        assert scoped, f"{component}.{table.name}: no policy keeps reads and writes to the transaction's tenant"


def test_the_service_role_is_subject_to_the_policies(migrated: tuple[str, Any]) -> None:
    component, database = migrated
    [role] = rows(database.owner, "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r",
                  r=f"{component}_app")
    assert (role.rolsuper, role.rolbypassrls) == (False, False)
    owned = rows(database.owner, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = :r",
                 r=f"{component}_app")
    assert not owned, f"{component}: the service role owns {[t.tablename for t in owned]} (owners skip policies)"
