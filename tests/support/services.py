"""Run one service in-process against the real PostgreSQL and broker, with its relay and consumers."""

from __future__ import annotations

import base64
import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from harambee_common.migrations import upgrade
from harambee_stack.postgres import ComponentDatabase


@contextmanager
def patched_env(values: dict[str, str]) -> Iterator[None]:
    """Sets environment variables for the block, restoring the old values after."""
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def service_env(*, database: ComponentDatabase, bootstrap: str, issuer: Any) -> dict[str, str]:
    """The environment of one service process."""
    return {
        **database.env(),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "INTAKE_KEY_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
        **issuer.env(),
    }


@contextmanager
def running_service(
    component: str, *, postgres: Any, broker: Any, issuer: Any
) -> Iterator[tuple[TestClient, ComponentDatabase]]:
    """A migrated database and the running app (lifespan on: relay and consumers work)."""
    database = postgres.provision(component)
    upgrade(package=f"harambee_{component}", url=database.owner)
    env = service_env(database=database, bootstrap=broker.bootstrap, issuer=issuer)
    with patched_env(env):
        app = importlib.import_module(f"harambee_{component}.app").create_app()
        with TestClient(app) as client:
            yield client, database


def rows(url: str, query: str, *, tenant: str | None = None, **params: Any) -> list[sa.Row]:
    """Runs a query as the role in url, optionally with a tenant set, and returns the rows."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if tenant is not None:
                conn.execute(sa.select(sa.func.set_config("app.tenant_id", tenant, True)))
            return list(conn.execute(sa.text(query), params))
    finally:
        engine.dispose()
