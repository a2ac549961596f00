"""deploy/: the Kubernetes manifests, read with PyYAML and checked for the shape the platform needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harambee_common.components import COMPONENTS as _COMPONENTS
from harambee_common.components import TOPICS
from harambee_stack.stack import DEFAULT_PORTS
from tests.support.embedded import postgres_major

COMPONENTS = tuple(c.name for c in _COMPONENTS)
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    """Every document of every manifest the kustomization applies."""
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    return [
        document
        for resource in kustomization["resources"]
        for document in yaml.safe_load_all((DEPLOY / resource).read_text())
        if document
    ]


def _all(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def _one(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [m for m in _all(manifests, kind) if m["metadata"]["name"] == name]
    return found


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in container.get("env", [])}


def test_the_kustomization_applies_every_manifest() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    on_disk = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == on_disk


def test_no_secret_is_committed(manifests: list[dict[str, Any]]) -> None:
    assert not _all(manifests, "Secret")


def test_kafka_is_a_strimzi_kraft_cluster_with_controller_and_broker_pools(
    manifests: list[dict[str, Any]],
) -> None:
    [kafka] = _all(manifests, "Kafka")
    annotations = kafka["metadata"]["annotations"]
    assert annotations["strimzi.io/kraft"] == "enabled"
    assert annotations["strimzi.io/node-pools"] == "enabled"
    assert "zookeeper" not in kafka["spec"]
    pools = _all(manifests, "KafkaNodePool")
    assert {role for pool in pools for role in pool["spec"]["roles"]} == {"controller", "broker"}
    assert all(p["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"] for p in pools)


def test_every_topic_is_declared_with_three_replicas(manifests: list[dict[str, Any]]) -> None:
    topics = {t["spec"]["topicName"]: t["spec"] for t in _all(manifests, "KafkaTopic")}
    assert set(topics) == set(TOPICS)
    for spec in topics.values():
        assert (spec["replicas"], spec["config"]["min.insync.replicas"]) == (3, 2)


def test_postgres_is_a_cloudnativepg_cluster_with_each_components_roles_and_database(
    manifests: list[dict[str, Any]],
) -> None:
    [cluster] = _all(manifests, "Cluster")
    # Production runs the major version the tests prove the migrations and policies on.
    assert cluster["spec"]["imageName"] == f"ghcr.io/cloudnative-pg/postgresql:{postgres_major()}"
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    assert set(roles) == {f"{c}_{kind}" for c in COMPONENTS for kind in ("owner", "app", "relay")}
    for name, role in roles.items():
        assert role["superuser"] is False, name
        assert role.get("bypassrls", False) is name.endswith("_relay"), name
        assert role["passwordSecret"]["name"] == f"harambee-db-{name.replace('_', '-')}"
    databases = {d["spec"]["name"]: d["spec"] for d in _all(manifests, "Database")}
    assert {name: spec["owner"] for name, spec in databases.items()} == {
        f"harambee_{c}": f"{c}_owner" for c in COMPONENTS
    }
    assert all(spec["cluster"]["name"] == cluster["metadata"]["name"] for spec in databases.values())


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_has_a_deployment_probed_on_readyz_and_healthz_and_a_service(
    manifests: list[dict[str, Any]], component: str
) -> None:
    deployment = _one(manifests, "Deployment", component)
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    assert container["args"] == ["serve"]
    assert container["ports"] == [{"name": "http", "containerPort": DEFAULT_PORTS[component]}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    service = _one(manifests, "Service", component)
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["port"] == DEFAULT_PORTS[component]


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_migrates_in_an_init_container_as_its_owner(
    manifests: list[dict[str, Any]], component: str
) -> None:
    pod = _one(manifests, "Deployment", component)["spec"]["template"]["spec"]
    [migrate] = pod["initContainers"]
    assert migrate["args"] == ["migrate"]
    assert migrate["image"] == pod["containers"][0]["image"]
    url = _env(migrate)["MIGRATION_DATABASE_URL"]["value"]
    assert url.startswith(f"postgresql+psycopg://{component}_owner:$(OWNER_PASSWORD)@")
    assert "MIGRATION_DATABASE_URL" not in _env(pod["containers"][0])


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_reads_its_database_broker_and_secrets_from_the_right_places(
    manifests: list[dict[str, Any]], component: str
) -> None:
    pod = _one(manifests, "Deployment", component)["spec"]["template"]["spec"]
    env = _env(pod["containers"][0])
    assert env["DATABASE_URL"]["value"].startswith(f"postgresql+psycopg://{component}_app:$(APP_PASSWORD)@")
    assert env["DATABASE_URL"]["value"].endswith(f"/harambee_{component}")
    assert env["RELAY_DATABASE_URL"]["value"].startswith(f"postgresql+psycopg://{component}_relay:")
    assert "configMapKeyRef" in env["KAFKA_BOOTSTRAP_SERVERS"]["valueFrom"]
    for container in [*pod["containers"], *pod["initContainers"]]:
        for name, variable in _env(container).items():
            if name.endswith(("PASSWORD", "ENCRYPTION_KEY")):
                assert "secretKeyRef" in variable["valueFrom"], f"{component}: {name} must come from a Secret"


def test_key_encryption_and_blind_index_keys_are_files_from_secrets_of_their_own(
    manifests: list[dict[str, Any]],
) -> None:
    secrets = []
    for component, variable in (("gateway", "GATEWAY_KEY_ENCRYPTION_KEY_FILE"),
                                ("intake", "INTAKE_KEY_ENCRYPTION_KEY_FILE"),
                                ("intake", "INTAKE_BLIND_INDEX_KEY_FILE")):
        pod = _one(manifests, "Deployment", component)["spec"]["template"]["spec"]
        path = Path(_env(pod["containers"][0])[variable]["value"])
        mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
        secrets.append({v["name"]: v for v in pod["volumes"]}[mounts[str(path.parent)]]["secret"]["secretName"])
    assert len(set(secrets)) == 3


def test_signing_keys_are_mounted_from_secrets(manifests: list[dict[str, Any]]) -> None:
    for component, variable in (("gateway", "GATEWAY_SIGNING_KEY_FILE"), ("audit", "AUDIT_SIGNING_KEY_FILE")):
        pod = _one(manifests, "Deployment", component)["spec"]["template"]["spec"]
        path = Path(_env(pod["containers"][0])[variable]["value"])
        mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        secret = volumes[mounts[str(path.parent)]]["secret"]["secretName"]
        assert secret == f"harambee-{component}-signing-key"
