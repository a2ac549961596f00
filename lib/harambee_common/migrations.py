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


# Row-level security binds the owner role too (FORCE), so that a migration or a maintenance tool run as
# the owner cannot read or change every tenant's rows by accident. Crossing tenants is said out loud:
# the owner's own policy lets it through only while this setting is 'on' (all_tenants, tenant_lister).
# The service role never passes that policy, whatever it sets.
ALL_TENANTS_SETTING = "app.all_tenants"

_TENANT_TABLES = """
    SELECT k.relname FROM pg_class k
    WHERE k.relnamespace = 'public'::regnamespace AND k.relkind IN ('r', 'p') AND k.relrowsecurity
      AND EXISTS (SELECT 1 FROM pg_attribute a
                  WHERE a.attrelid = k.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
"""


def protect_tenant_table(table: str, *, component: str, privileges: str) -> None:
    """Enables and forces tenant row-level security on a table and grants the service role its privileges."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        "USING (tenant_id = current_setting('app.tenant_id', true)) "
        "WITH CHECK (tenant_id = current_setting('app.tenant_id', true))"
    )
    _force(table, component=component)
    op.execute(f'GRANT {privileges} ON {table} TO "{component}_app"')


def force_row_level_security(component: str) -> None:
    """Forces row-level security on every tenant table made before protect_tenant_table forced it."""
    # Skips the tables already forced: on a new database, protect_tenant_table did it in earlier revisions.
    for table in op.get_bind().scalars(text(_TENANT_TABLES + " AND NOT k.relforcerowsecurity")):
        _force(table, component=component)


def unforce_row_level_security() -> None:
    """Undoes force_row_level_security."""
    for table in op.get_bind().scalars(text(_TENANT_TABLES)):
        op.execute(f"DROP POLICY IF EXISTS owner_all_tenants ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")


def all_tenants() -> None:
    """Lets the rest of this migration's transaction read and write every tenant's rows (a data migration)."""
    op.execute(f"SELECT set_config('{ALL_TENANTS_SETTING}', 'on', true)")


def tenant_lister(signature: str, *, query: str, across_tenants: bool = True) -> None:
    """(Re)defines a SECURITY DEFINER function returning the tenant ids a query finds in every tenant's rows.

    The service works inside one tenant's row-level security at a time; such a function tells it which
    tenants have work due, and returns nothing else. across_tenants=False gives the form it had before
    row-level security bound the owner (for downgrades).
    """
    if not across_tenants:
        op.execute(
            f"CREATE OR REPLACE FUNCTION {signature} RETURNS SETOF text "
            f"LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$ {query} $$"
        )
        return
    # A function's own SET clause would scope the setting to the call, but a non-superuser may not attach a
    # custom setting to a function; so the body sets it and puts it back (an error rolls it back anyway).
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {signature} RETURNS SETOF text
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            previous text := current_setting('{ALL_TENANTS_SETTING}', true);
        BEGIN
            PERFORM set_config('{ALL_TENANTS_SETTING}', 'on', true);
            RETURN QUERY {query};
            PERFORM set_config('{ALL_TENANTS_SETTING}', coalesce(previous, ''), true);
        END
        $$
        """
    )


def _force(table: str, *, component: str) -> None:
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f'CREATE POLICY owner_all_tenants ON {table} TO "{component}_owner" '
        f"USING (current_setting('{ALL_TENANTS_SETTING}', true) = 'on') "
        f"WITH CHECK (current_setting('{ALL_TENANTS_SETTING}', true) = 'on')"
    )


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
