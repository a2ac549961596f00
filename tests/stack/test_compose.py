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
from harambee_common.components import TOPICS
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
    expected = {"postgres", "kafka", "kafka-setup", *COMPONENTS, *(f"{c}-migrate" for c in COMPONENTS)}
    assert set(services) == expected


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name.endswith("-migrate") or name == "kafka-setup":
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
        env = {k: v for k, v in os.environ.items() if k != "INTAKE_KEY_ENCRYPTION_KEY"}
        env.update({name: "dummy" for name in _required_variables() - {"INTAKE_KEY_ENCRYPTION_KEY"}})
        result = _docker_compose_config(env)
        assert result.returncode != 0
        assert "INTAKE_KEY_ENCRYPTION_KEY" in result.stderr


def _secrets(service: dict[str, Any]) -> dict[str, str]:
    """A service's secrets: where each is mounted (/run/secrets/<target>) → which secret it is."""
    mounted = {}
    for secret in service.get("secrets", []):
        source = secret if isinstance(secret, str) else secret["source"]
        target = secret if isinstance(secret, str) else secret.get("target", source)
        mounted[target] = source
    return mounted


def _kafka_setup_grants(services: dict[str, Any], component: str, kind: str) -> set[str]:
    return set(_env(services["kafka-setup"]).get(f"{component.upper()}_{kind}", "").split())


def test_kafka_clients_must_authenticate_and_only_loopback_listeners_are_plaintext(services: dict[str, Any]) -> None:
    env = _env(services["kafka"])
    protocols = dict(pair.split(":") for pair in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    for listener in env["KAFKA_LISTENERS"].split(","):
        name, _, address = listener.partition("://")
        host = address.rpartition(":")[0]
        if protocols[name] == "PLAINTEXT":
            assert host == "127.0.0.1", f"{listener} is plaintext beyond the broker's own loopback"
        else:
            assert protocols[name] in ("SASL_PLAINTEXT", "SASL_SSL")
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].endswith("@127.0.0.1:9093")
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    # kafka-setup reaches the loopback listener by sharing the broker's network namespace.
    assert services["kafka-setup"]["network_mode"] == "service:kafka"
    for component in COMPONENTS:
        dependency = services[component]["depends_on"]["kafka-setup"]
        assert dependency["condition"] == "service_completed_successfully"


def test_each_component_has_its_own_principal_kafka_password_and_event_signing_key(services: dict[str, Any]) -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    files: dict[str, str] = {}
    for component in COMPONENTS:
        env, mounted = _env(services[component]), _secrets(services[component])
        assert env["KAFKA_SASL_USERNAME"] == component
        assert env["KAFKA_SASL_PASSWORD_FILE"] == "/run/secrets/kafka_password"
        assert env["EVENT_SIGNING_KEY_FILE"] == "/run/secrets/event_signing_key"
        assert mounted["kafka_password"] == f"{component}_kafka_password"
        assert mounted["event_signing_key"] == f"{component}_event_signing_key"
        # Its own secrets and no other component's.
        others = [s for s in mounted.values() if any(s.startswith(f"{o}_") for o in COMPONENTS if o != component)]
        assert not others, f"{component} is given {others}"
        for source in mounted.values():
            path = compose["secrets"][source]["file"]
            assert path not in files.values(), f"{source} shares {path}"
            files[source] = path
        assert f"./secrets/{component}/" in files[f"{component}_kafka_password"]
        # Every component's public keys, read-only.
        public = [str(v) for v in services[component].get("volumes", []) if "/etc/harambee/event-keys" in str(v)]
        assert public and all(v.endswith(":ro") for v in public), component
        assert env["EVENT_PUBLIC_KEYS_DIR"] == "/etc/harambee/event-keys"
    assert _secrets(services["kafka-setup"]) == {f"{c}_kafka_password": f"{c}_kafka_password" for c in COMPONENTS}


def _subscribed_topics() -> dict[str, set[str]]:
    """The topics each component's consumers read, from their subscriptions."""
    from harambee_assessment.consumers import SUBSCRIPTION as ASSESSMENT
    from harambee_audit.consumers import TOPICS as AUDIT
    from harambee_intake.consumers import subscription as intake
    from harambee_interventions.consumers import SUBSCRIPTION as INTERVENTIONS

    return {"gateway": set(), "intake": set(intake(vault=None).topics), "assessment": set(ASSESSMENT.topics),
            "interventions": set(INTERVENTIONS.topics), "audit": set(AUDIT)}


def test_each_principal_writes_only_its_own_topic_and_reads_only_what_its_consumers_subscribe_to(
    services: dict[str, Any],
) -> None:
    setup = _env(services["kafka-setup"])
    assert setup["COMPONENTS"].split() == list(COMPONENTS)
    assert set(setup["TOPICS"].split()) == set(TOPICS)
    subscribed = _subscribed_topics()
    assert set(subscribed) == set(COMPONENTS), "add the new component's subscription here"
    for each in _COMPONENTS:
        assert _kafka_setup_grants(services, each.name, "WRITES") == {each.topic}
        assert _kafka_setup_grants(services, each.name, "READS") == subscribed[each.name], each.name
    writers = [c for c in COMPONENTS if "registry.events" in _kafka_setup_grants(services, c, "WRITES")]
    assert writers == ["gateway"]


def test_every_service_confirms_its_agreement_copy_with_its_own_registry_client(services: dict[str, Any]) -> None:
    for component in COMPONENTS:
        env, mounted = _env(services[component]), _secrets(services[component])
        if component == "gateway":
            assert "REGISTRY_CLIENT_ID_FILE" not in env  # it is the registry
            continue
        assert env["GATEWAY_URL"] == "http://gateway:8000"  # inside the network; the issuer is the public URL
        assert env["REGISTRY_CLIENT_ID_FILE"] == "/run/secrets/registry_client_id"
        assert env["REGISTRY_CLIENT_SECRET_FILE"] == "/run/secrets/registry_client_secret"
        assert mounted["registry_client_secret"] == f"{component}_registry_client_secret"
        assert "AGREEMENT_SYNC_INTERVAL_SECONDS" in env and "AGREEMENT_COPY_MAX_AGE_SECONDS" in env
