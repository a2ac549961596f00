"""The whole platform on one machine: PostgreSQL, the broker and every component, started and stopped."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from harambee_common.clock import CLOCK_OFFSET_FILE, move_clock_file
from harambee_common.components import (
    ASSESSMENT,
    COMPONENTS,
    GATEWAY,
    INTAKE,
    INTERVENTIONS,
    MONITORING,
    SERVICES,
    component,
)
from harambee_common.signing import EventKeys
from harambee_stack.broker import Broker
from harambee_stack.keys import Keys
from harambee_stack.postgres import ComponentDatabase, Postgres
from harambee_stack.processes import ChildProcess

# Each component's port, by name: a stack's `ports` maps the same names.
DEFAULT_PORTS: Mapping[str, int] = {c.name: c.port for c in COMPONENTS}
AUDIENCE = "urn:harambee:api"

# The variables the stack sets itself; values inherited from the caller's shell must not leak through.
_STACK_VARIABLES = (
    "DATABASE_URL", "MIGRATION_DATABASE_URL", "RELAY_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS",
    "HARAMBEE_ISSUER", "HARAMBEE_AUDIENCE", "JWKS_URL", "HOST", "PORT", "RUN_RELAY",
    "EVENT_SIGNING_KEY_FILE", "EVENT_PUBLIC_KEYS_DIR", "GATEWAY_URL", "REGISTRY_CLIENT_ID", "REGISTRY_CLIENT_ID_FILE",
    "REGISTRY_CLIENT_SECRET", "REGISTRY_CLIENT_SECRET_FILE", CLOCK_OFFSET_FILE,
)
# An ephemeral (test) stack runs interventions' flag check every few seconds, not hourly: a test that moves
# the clock sees the flags it expects without waiting long.
TEST_FLAG_CHECK_SECONDS = "2"


class StackError(RuntimeError):
    """The stack could not start (the message carries the failing process's log tail)."""


def harambee_command(name: str) -> list[str]:
    """The command that runs a component: `python -m harambee_<name>`."""
    return [sys.executable, "-m", component(name).package]


def free_ports() -> dict[str, int]:
    """A distinct free loopback port for every component (for tests that run beside other stacks)."""
    sockets = []
    try:
        for _ in COMPONENTS:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)  # held open until all are chosen, so no two are the same
        return {c.name: s.getsockname()[1] for c, s in zip(COMPONENTS, sockets, strict=True)}
    finally:
        for sock in sockets:
            sock.close()


class Stack:
    """Starts and supervises the platform; every process it starts, it stops (also on errors and at exit)."""

    def __init__(
        self,
        *,
        state_dir: Path,
        ports: Mapping[str, int] = DEFAULT_PORTS,
        command: Callable[[str], list[str]] = harambee_command,
        ephemeral: bool = False,
        ready_timeout: float = 90.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.state_dir = state_dir.resolve()
        self.ports = dict(ports)
        self.logs_dir = self.state_dir / "logs"
        self.credentials_path = self.state_dir / "demo-credentials.json"
        self.postgres: Postgres | None = None
        self.broker: Broker | None = None
        self._command = command
        # An ephemeral stack's databases get unique names and are dropped at stop, which matters
        # only on a shared external server (DATABASE_URL); the embedded one lives in state_dir.
        self._database_prefix = f"harambee_{uuid.uuid4().hex[:8]}" if ephemeral else "harambee"
        self._ephemeral = ephemeral
        self._ready_timeout = ready_timeout
        # A one-off job (migrations, seeding) does all its work before it exits: on a loaded machine the demo
        # seed alone took 90 s, so it gets longer than a process's readiness, but still a bound.
        self._job_timeout = max(ready_timeout, 300.0)
        self._stop_timeout = stop_timeout
        self._processes: dict[str, ChildProcess] = {}
        self._databases: dict[str, ComponentDatabase] = {}
        self._keys: Keys | None = None
        self._teardown = contextlib.ExitStack()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def gateway_url(self) -> str:
        """The gateway's base URL, which is also the token issuer."""
        return self.url(GATEWAY.name)

    def url(self, name: str) -> str:
        """The base URL of one component (by its name)."""
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def credentials(self) -> dict[str, Any]:
        """The demo tenants and clients that seed-demo wrote."""
        return json.loads(self.credentials_path.read_text())

    @property
    def clock_file(self) -> Path:
        """The offset every component's clock of an ephemeral stack is moved by (harambee_common.clock)."""
        return self.state_dir / "clock-offset"

    def move_clock(self, **delta: float) -> None:
        """Moves every component's clock forward (an ephemeral stack only): date rules are tested, never slept on."""
        if not self._ephemeral:
            raise StackError("only an ephemeral (test) stack's clock can be moved")
        move_clock_file(self.clock_file, timedelta(**delta))

    def event_keys(self, name: str) -> EventKeys:
        """The event key ring of one component of this stack: a test publishing on its behalf signs with it."""
        assert self._keys is not None, "the stack is not started"
        return EventKeys.from_files(component=component(name),
                                    signing_key_file=self._keys.event_keys_dir / f"{name}.key.pem",
                                    public_keys_dir=self._keys.event_keys_dir / "public")

    def log_path(self, name: str) -> Path:
        """The log file of one process (a component, `broker`, `<component>-migrate` or `seed-demo`)."""
        return self.logs_dir / f"{name}.log"

    def start(self) -> Stack:
        """Starts everything and returns once every component is ready and the demo data is seeded."""
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops every process in reverse order of start: components, broker, PostgreSQL."""
        atexit.unregister(self.stop)
        self._teardown.close()
        self._processes.clear()

    def pid(self, name: str) -> int | None:
        """The process id of a running component (or `<component>-relay`)."""
        return self._processes[name].pid

    def stop_broker(self) -> None:
        """Stops the embedded broker (it forgets every topic and offset, like a restarted in-memory one)."""
        self._embedded_broker().stop(timeout=self._stop_timeout)

    def kill_broker(self) -> None:
        """SIGKILLs the embedded broker mid-flight (a crash: every topic and offset is gone)."""
        self._embedded_broker().kill()

    def start_broker(self) -> None:
        """Starts the embedded broker again on the same address."""
        self._embedded_broker().start()

    def stop_postgres(self) -> None:
        """Stops the embedded PostgreSQL, keeping its data (an outage; the services are left running)."""
        assert self.postgres is not None and self.postgres.embedded, "only an embedded PostgreSQL can be stopped"
        self.postgres.stop_server()

    def start_postgres(self) -> None:
        """Starts the embedded PostgreSQL again where it was."""
        assert self.postgres is not None
        self.postgres.start_server()

    def stop_component(self, name: str) -> None:
        """Stops one component's process."""
        self._processes[name].stop(timeout=self._stop_timeout)

    def kill_component(self, name: str) -> None:
        """SIGKILLs one component's process (or `<component>-relay`), as a crash would."""
        self._processes[name].kill()

    def database(self, name: str) -> ComponentDatabase:
        """One component's database URLs, for tests that count what it holds (the owner crosses tenants)."""
        return self._databases[name]

    def start_component(self, name: str) -> None:
        """Starts one stopped component again and waits until it is ready."""
        self._processes[name].start()
        self._wait_ready(name)

    def _start(self) -> None:
        self._check_ports_free()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._keep_previous_logs()
        # Owner-only: seed-demo's output, for one, carries the demo clients' secrets.
        self.logs_dir.mkdir(mode=0o700)
        self._keys = Keys.load_or_create(self.state_dir / "secrets")

        self.postgres = Postgres.start(data_dir=self.state_dir / "postgres")
        self._teardown.callback(self.postgres.stop)
        self.broker = Broker.start_default(log_path=self.log_path("broker"))
        self._teardown.callback(self.broker.stop, timeout=self._stop_timeout)

        for each in COMPONENTS:
            database = f"{self._database_prefix}_{each.name}"
            self._databases[each.name] = self.postgres.provision(each.name, database=database)
            if self._ephemeral and not self.postgres.embedded:
                self._teardown.callback(self.postgres.drop, database)
        self._migrate()
        if self._keys.gateway_secrets_need_resealing:
            self._run_once(GATEWAY.name, "reseal-secrets", "--previous-signing-key-file",
                           str(self._keys.gateway_signing_key_file), name="gateway-reseal")

        # Seeded before anything starts (it writes the registry directly), so that each service starts
        # with its own registry client, which loads its copy of the agreements.
        self._seed_demo()
        # The gateway first: the services verify tokens against its JWKS.
        self._start_components([GATEWAY.name])
        self._start_components([s.name for s in SERVICES])

    def _check_ports_free(self) -> None:
        for name, port in self.ports.items():
            with socket.socket() as sock:
                # The same option uvicorn sets, so a port in TIME_WAIT counts as free, as it will be.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    raise StackError(
                        f"port {port} for {name} is in use (is another stack running?)"
                    ) from None

    def _keep_previous_logs(self) -> None:
        if not self.logs_dir.exists():
            return
        previous = self.state_dir / "logs.previous"
        shutil.rmtree(previous, ignore_errors=True)
        self.logs_dir.rename(previous)

    def _migrate(self) -> None:
        jobs = [self._process(c.name, "migrate", name=f"{c.name}-migrate") for c in COMPONENTS]
        for job in jobs:
            self._teardown.callback(job.stop, timeout=self._stop_timeout)
            job.start()
        for job in jobs:
            if job.wait(timeout=self._job_timeout) != 0:
                raise StackError(f"{job.name} failed with exit status {job.returncode}\n{job.log_tail()}")

    def _start_components(self, names: list[str]) -> None:
        for name in names:
            process = self._process(name, "serve", name=name)
            self._processes[name] = process
            self._teardown.callback(process.stop, timeout=self._stop_timeout)
            process.start()
            if name != GATEWAY.name:  # each service's outbox relay runs beside it (RUN_RELAY=0, see _env)
                relay = self._process(name, "relay", name=f"{name}-relay")
                self._processes[relay.name] = relay
                self._teardown.callback(relay.stop, timeout=self._stop_timeout)
                relay.start()
        for name in names:
            self._wait_ready(name)

    def _seed_demo(self) -> None:
        self._run_once(GATEWAY.name, "seed-demo", "--out", str(self.credentials_path),
                       "--gateway-url", self.gateway_url, name="seed-demo")
        # A month of synthetic activity in monitoring's own read model (harambee_monitoring.demo says why).
        self._run_once(MONITORING.name, "seed-demo", name="monitoring-seed-demo")

    def _run_once(self, component: str, *args: str, name: str) -> None:
        job = self._process(component, *args, name=name)
        self._teardown.callback(job.stop, timeout=self._stop_timeout)
        job.start()
        if job.wait(timeout=self._job_timeout) != 0:
            raise StackError(f"{name} failed with exit status {job.returncode}\n{job.log_tail()}")

    def _process(self, component: str, *args: str, name: str) -> ChildProcess:
        return ChildProcess(
            name=name,
            argv=[*self._command(component), *args],
            env=self._env(component, verb=args[0]),
            log_path=self.log_path(name),
        )

    def _env(self, component: str, *, verb: str) -> dict[str, str]:
        assert self.broker is not None and self._keys is not None
        env = {k: v for k, v in os.environ.items() if k not in _STACK_VARIABLES}
        env.update(self._databases[component].env())
        if verb == "migrate":  # a running process that held the owner's password could undo every policy
            env.update(self._databases[component].migration_env())
        env.update(self._keys.env(component))
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap,
            HARAMBEE_ISSUER=self.gateway_url,
            HARAMBEE_AUDIENCE=AUDIENCE,
            JWKS_URL=f"{self.gateway_url}/.well-known/jwks.json",
            HOST="127.0.0.1",
            PORT=str(self.ports[component]),
            PYTHONUNBUFFERED="1",  # a crash's last lines must reach the log file
        )
        if component != GATEWAY.name:
            # In its own process the relay does not compete with the API's request threads for one
            # interpreter (cli.py has the figures).
            env["RUN_RELAY"] = "0"
        if component == GATEWAY.name:
            env.update({s.url_variable: self.url(s.name) for s in SERVICES})
        elif self.credentials_path.exists():
            registry = next((c for c in self.credentials.get("clients", []) if c["name"] == f"{component}-service"),
                            None)
            if registry is not None:
                env.update(REGISTRY_CLIENT_ID=registry["client_id"], REGISTRY_CLIENT_SECRET=registry["client_secret"])
        if self._ephemeral:
            env[CLOCK_OFFSET_FILE] = str(self.clock_file)
            if component == INTERVENTIONS.name:
                env["INTERVENTIONS_FLAG_CHECK_SECONDS"] = TEST_FLAG_CHECK_SECONDS
        if component == INTAKE.name:  # a person's access request gathers what these hold about them
            env["INTAKE_SUBJECT_EXPORT_SOURCES"] = ",".join(
                f"{s.name}={self.url(s.name)}" for s in (ASSESSMENT, INTERVENTIONS))
        return env

    def _wait_ready(self, name: str) -> None:
        process = self._processes[name]
        url = f"{self.url(name)}/readyz"
        deadline = time.monotonic() + self._ready_timeout
        last = "no answer"
        # trust_env=False: a proxy from the environment must not see loopback traffic.
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if not process.running:
                    raise StackError(
                        f"{name} exited with status {process.returncode} before it was ready\n"
                        f"{process.log_tail()}"
                    )
                try:
                    response = client.get(url)
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                time.sleep(0.2)
        raise StackError(
            f"{name} was not ready at {url} within {self._ready_timeout:.0f}s (last: {last})\n"
            f"{process.log_tail()}"
        )

    def _embedded_broker(self) -> Broker:
        if self.broker is None or not self.broker.embedded:
            raise StackError(
                "only an embedded broker can be stopped and started (KAFKA_BOOTSTRAP_SERVERS is set)"
            )
        return self.broker
