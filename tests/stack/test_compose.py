"""docker-compose.yml: the production shape on one host.

The file is read through `docker-compose config` (Compose 1.29, Debian's `docker-compose` package), which
validates and interpolates it without a Docker engine, with dummy values for the required secrets. Where
that binary is absent the same assertions run on the file as PyYAML reads it (anchors and merge keys
resolved, variables left as written): the shape is still checked, never silently skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harambee_common.components import COMPONENTS as _COMPONENTS
from harambee_stack.stack import DEFAULT_PORTS
from tests.support.embedded import postgres_major

COMPONENTS = tuple(c.name for c in _COMPONENTS)
ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
REQUIRED = re.compile(r"\$\{(\w+):\?")
SECRET_NAME = re.compile(r"PASSWORD|KEY")


def _required_variables() -> set[str]:
    return set(REQUIRED.findall(COMPOSE_FILE.read_text()))


def _docker_compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary is not None
    return subprocess.run(
        [binary, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), "config"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    """The services, as Compose itself resolves them when it is installed, else as PyYAML reads them."""
    if shutil.which("docker-compose") is None:
        return yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    env = {**os.environ, **{name: "dummy" for name in _required_variables()}}
    result = _docker_compose_config(env)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items()}


def test_compose_runs_postgres_kafka_and_each_component_after_its_migration(services: dict[str, Any]) -> None:
    expected = {"postgres", "kafka", *COMPONENTS, *(f"{c}-migrate" for c in COMPONENTS)}
    assert set(services) == expected


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name.endswith("-migrate"):
            continue  # a one-shot job: its exit status is what the component waits for
        assert service.get("healthcheck", {}).get("test"), name
    for component in COMPONENTS:
        probe = " ".join(services[component]["healthcheck"]["test"])
        assert f"127.0.0.1:{DEFAULT_PORTS[component]}/readyz" in probe


def test_only_the_gateway_publishes_a_port(services: dict[str, Any]) -> None:
    assert [name for name, service in services.items() if service.get("ports")] == ["gateway"]


def test_every_component_has_its_database_and_the_broker(services: dict[str, Any]) -> None:
    for component in COMPONENTS:
        env = _env(services[component])
        assert f"{component}_app:" in env["DATABASE_URL"], component
        assert env["DATABASE_URL"].endswith(f"@postgres:5432/harambee_{component}")
        assert f"{component}_relay:" in env["RELAY_DATABASE_URL"], component
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["PORT"] == str(DEFAULT_PORTS[component])
        assert "MIGRATION_DATABASE_URL" not in env, f"{component} must not hold the owner's password"


def test_each_migration_runs_as_the_owner_and_must_succeed_before_its_component_starts(
    services: dict[str, Any],
) -> None:
    for component in COMPONENTS:
        migration = services[f"{component}-migrate"]
        assert migration["command"] == ["migrate"]
        env = _env(migration)
        assert f"{component}_owner:" in env["MIGRATION_DATABASE_URL"]
        assert "DATABASE_URL" not in env
        dependency = services[component]["depends_on"][f"{component}-migrate"]
        assert dependency["condition"] == "service_completed_successfully"
        assert migration["build"]["args"]["COMPONENT"] == component


def test_kafka_runs_in_kraft_mode_without_zookeeper(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = _env(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert "zookeeper" not in yaml.safe_dump(services).lower()


def test_postgres_is_the_tests_major_version_and_creates_the_component_roles_at_initialisation(
    services: dict[str, Any],
) -> None:
    postgres = services["postgres"]
    # Production runs the major version the tests prove the migrations and policies on.
    assert postgres["image"] == f"postgres:{postgres_major()}"
    assert any("docker-entrypoint-initdb.d" in str(volume) for volume in postgres["volumes"])
    # From 18 the image refuses a volume at /var/lib/postgresql/data; its data lives under the parent.
    targets = [str(v["target"] if isinstance(v, dict) else v.split(":")[1]) for v in postgres["volumes"]]
    assert "/var/lib/postgresql" in targets and "/var/lib/postgresql/data" not in targets


def test_every_secret_is_required_and_has_no_default() -> None:
    text = COMPOSE_FILE.read_text()
    for expression in re.findall(r"\$\{([^}]*)\}", text):
        name = re.match(r"\w+", expression).group()
        if SECRET_NAME.search(name):
            assert expression.startswith(f"{name}:?"), f"${{{expression}}} must be required, with no default"
    if shutil.which("docker-compose") is not None:
        env = {k: v for k, v in os.environ.items() if k != "INTAKE_KEY_ENCRYPTION_KEY_PATH"}
        env.update({name: "dummy" for name in _required_variables() - {"INTAKE_KEY_ENCRYPTION_KEY_PATH"}})
        result = _docker_compose_config(env)
        assert result.returncode != 0
        assert "INTAKE_KEY_ENCRYPTION_KEY_PATH" in result.stderr


def test_keys_reach_the_components_as_files_never_as_values(services: dict[str, Any]) -> None:
    for component, variables in (("gateway", ("GATEWAY_SIGNING_KEY_FILE", "GATEWAY_KEY_ENCRYPTION_KEY_FILE")),
                                 ("intake", ("INTAKE_KEY_ENCRYPTION_KEY_FILE", "INTAKE_BLIND_INDEX_KEY_FILE"))):
        environment = _env(services[component])
        for variable in variables:
            assert environment[variable].startswith("/run/secrets/"), variable
        assert not {"INTAKE_KEY_ENCRYPTION_KEY", "INTAKE_BLIND_INDEX_KEY"} & set(environment)


def test_the_relay_role_never_has_the_app_roles_password(services: dict[str, Any]) -> None:
    text = COMPOSE_FILE.read_text()
    for component in COMPONENTS:
        upper = component.upper()
        relay = re.search(rf"{component}_relay:\$\{{(\w+):\?", text)
        app = re.search(rf"{component}_app:\$\{{(\w+):\?", text)
        assert relay and app, component
        assert relay.group(1) == f"{upper}_DB_RELAY_PASSWORD" != app.group(1), component
        assert f"{upper}_DB_RELAY_PASSWORD" in _env(services["postgres"]), component
    init = (ROOT / "deploy" / "compose" / "postgres-init.sh").read_text()
    assert "PASSWORD :'relay_password'" in init and "PASSWORD :'app_password';\nCREATE DATABASE" not in init
