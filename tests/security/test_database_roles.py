"""Each component's three database roles: their own passwords, and row-level security that binds the owner too.

tests/security/test_row_level_security.py checks that every tenant table forces its policies; this shows
what that means for someone connected as the owner (a migration, a maintenance tool).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from harambee_common.components import COMPONENTS
from harambee_common.migrations import ALL_TENANTS_SETTING, upgrade
from tests.support.services import rows

CROSSING = f"SELECT set_config('{ALL_TENANTS_SETTING}', 'on', true)"
PROCESSED = "INSERT INTO processed_events (consumer, event_id, tenant_id, type) VALUES ('test', :e, :t, 'test.done')"


def _password(url: str) -> str | None:
    return make_url(url).password


def _with_password(url: str, password: str | None) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def _plain(url: str) -> str:
    """The owner's URL as a tool would hold it, without the tests' opt-in to crossing tenants."""
    return make_url(url).difference_update_query(["options"]).render_as_string(hide_password=False)


def _connects(url: str) -> bool:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        engine.connect().close()
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()
    return True


@pytest.mark.parametrize("component", [c.name for c in COMPONENTS])
def test_each_role_has_its_own_password(postgres: Any, component: str) -> None:
    database = postgres.provision(component)
    passwords = [_password(url) for url in (database.owner, database.app, database.relay)]
    assert all(passwords) and len(set(passwords)) == 3, f"{component}: roles share a password"


def test_one_roles_password_does_not_let_anyone_in_as_another(postgres: Any) -> None:
    database = postgres.provision("intake")
    assert _connects(database.app) and _connects(database.relay)
    assert not _connects(_with_password(database.relay, _password(database.app)))
    assert not _connects(_with_password(database.owner, _password(database.app)))
    assert not _connects(_with_password(database.app, _password(database.relay)))


def test_a_runtime_process_is_not_handed_the_owners_url(postgres: Any) -> None:
    database = postgres.provision("intake")
    assert "MIGRATION_DATABASE_URL" not in database.env()
    assert database.migration_env() == {"MIGRATION_DATABASE_URL": database.owner}


@pytest.fixture(scope="module")
def assessment(postgres: Any) -> Any:
    """A migrated assessment database holding one processed event in each of two tenants."""
    database = postgres.provision("assessment")
    upgrade(package="harambee_assessment", url=database.owner)
    for tenant in ("ke-one", "ke-two"):
        rows(database.app, PROCESSED + " RETURNING 1", tenant=tenant, e=str(uuid.uuid4()), t=tenant)
    return database


def test_the_owner_sees_no_tenants_rows_unless_it_names_a_tenant(assessment: Any) -> None:
    owner = _plain(assessment.owner)
    assert rows(owner, "SELECT count(*) AS n FROM processed_events")[0].n == 0
    assert [r.tenant_id for r in rows(owner, "SELECT tenant_id FROM processed_events", tenant="ke-one")] == ["ke-one"]


def test_the_owner_cannot_write_into_another_tenant_than_its_transactions(assessment: Any) -> None:
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        rows(_plain(assessment.owner), PROCESSED + " RETURNING 1", tenant="ke-one", e=str(uuid.uuid4()), t="ke-two")


def test_the_owner_crosses_tenants_only_when_it_says_so(assessment: Any) -> None:
    owner = _plain(assessment.owner)
    engine = sa.create_engine(owner, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(CROSSING))
            tenants = sorted(conn.scalars(sa.text("SELECT tenant_id FROM processed_events")))
    finally:
        engine.dispose()
    assert tenants == ["ke-one", "ke-two"]


def test_the_service_role_does_not_cross_tenants_whatever_it_sets(assessment: Any) -> None:
    engine = sa.create_engine(assessment.app, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(CROSSING))
            assert conn.scalar(sa.text("SELECT count(*) FROM processed_events")) == 0
    finally:
        engine.dispose()
