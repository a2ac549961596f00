"""Alembic, driven from code: every component keeps its migrations in `<package>/migrations`."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, engine_from_config, pool, text

from harambee_common.events import OUTBOX_CHANNEL


def upgrade(*, package: str, url: str, revision: str = "head") -> None:
    """Applies a component's migrations to the database at url (as its owner role)."""
    config = Config()
    # A filesystem path: alembic's "package:dir" form trips over editable installs.
    location = Path(importlib.import_module(package).__file__).parent / "migrations"
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)


def run_env(target_metadata: MetaData) -> None:
    """The body of every component's migrations/env.py (online mode only)."""
    config = context.config
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            # Replicas starting together each run migrate; the lock makes the others wait, then no-op.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('harambee-migrations'))"))
            context.run_migrations()
    engine.dispose()


def protect_tenant_table(table: str, *, component: str, privileges: str) -> None:
    """Enables tenant row-level security on a table and grants the service role its privileges."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        "USING (tenant_id = current_setting('app.tenant_id', true)) "
        "WITH CHECK (tenant_id = current_setting('app.tenant_id', true))"
    )
    op.execute(f'GRANT {privileges} ON {table} TO "{component}_app"')


def create_outbox(component: str) -> None:
    """The outbox table: the service role may only add to it; the relay role reads and marks it."""
    op.execute(
        """
        CREATE TABLE outbox (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id uuid NOT NULL UNIQUE,
            tenant_id text NOT NULL,
            topic text NOT NULL,
            key text NOT NULL,
            type text NOT NULL,
            source text NOT NULL,
            subject text,
            time timestamptz NOT NULL,
            traceparent text,
            data jsonb NOT NULL,
            published_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL")
    protect_tenant_table("outbox", component=component, privileges="INSERT")
    op.execute(f'GRANT SELECT, UPDATE ON outbox TO "{component}_relay"')


def notify_outbox() -> None:
    """Has every INSERT into the outbox NOTIFY the relay (delivered when its transaction commits)."""
    op.execute(
        "CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{OUTBOX_CHANNEL}', ''); RETURN NULL; END $$"
    )
    op.execute("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
               "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()")


def drop_notify_outbox() -> None:
    """Undoes notify_outbox."""
    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION outbox_notify()")


def create_processed_events(component: str) -> None:
    """The ids of consumed events, written in the same transaction as their effect."""
    op.execute(
        """
        CREATE TABLE processed_events (
            consumer text NOT NULL,
            event_id text NOT NULL,
            tenant_id text NOT NULL,
            type text NOT NULL,
            outcome text NOT NULL DEFAULT 'applied',
            error text,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, event_id)
        )
        """
    )
    protect_tenant_table("processed_events", component=component, privileges="SELECT, INSERT")
