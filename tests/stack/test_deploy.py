"""deploy/: every overlay rendered by kustomize, validated offline against the Kubernetes and operator schemas,
and checked for what the platform needs: its brokers' principals and ACLs, a database per component, the
network policies' reachability, secrets referenced by name only, and the variables the code really reads."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import ipaddress
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from harambee_common.components import COMPONENTS as _COMPONENTS
from tests.stack import kube
from tests.support.embedded import postgres_major

DEPLOY = kube.DEPLOY
OVERLAYS = ("single-node", "production")
ROOT = kube.ROOT
# Monitoring is being added beside this work; the manifests include it already (deploy/generate.py).
COMPONENTS = tuple(dict.fromkeys([*(c.name for c in _COMPONENTS), "monitoring"]))
PORTS = {"monitoring": 8105} | {c.name: c.port for c in _COMPONENTS}
SERVICES = tuple(c for c in COMPONENTS if c != "gateway")
TOPICS = {c: ("registry.events" if c == "gateway" else f"{c}.events") for c in COMPONENTS}
# Who calls whom over HTTP, as the code does: the gateway proxies to every service, every service asks
# the gateway for keys and agreements, intake gathers a person's data from assessment and interventions.
CALLS = {"gateway": set(SERVICES), "intake": {"gateway", "assessment", "interventions"}} | {
    c: {"gateway"} for c in SERVICES if c != "intake"}
# They call the public internet: partners' webhooks (intake), counties' external directories (gateway).
INTERNET = {"gateway", "intake"}
# Variables the manifests set that the code does not read yet: the broker's authentication and event
# signing are being added beside this work (issue 15), under these names.
# Keys from files only (gateway and intake key-encryption keys, intake's blind-index key) likewise.
# Only to compose a URL from a Secret, by $(NAME) in the next variable.
COMPOSING = {"APP_PASSWORD", "RELAY_PASSWORD", "OWNER_PASSWORD"}


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, kube.render(DEPLOY / "overlays" / request.param)


def _all(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [o for o in _all(objects, kind) if o["metadata"]["name"] == name]
    return found


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in container.get("env", [])}


def _pod(objects: list[dict[str, Any]], component: str) -> dict[str, Any]:
    return _one(objects, "Deployment", component)["spec"]["template"]


# Rendering and schemas


@pytest.mark.parametrize("kubernetes", kube.KUBERNETES_VERSIONS)
def test_every_object_of_every_overlay_validates_against_its_schema(rendered, kubernetes: str) -> None:
    _, objects = rendered
    assert [p for o in objects for p in kube.problems(o, kubernetes)] == []
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {"harambee"}


@pytest.mark.parametrize(("kind", "mistake"), [
    ("Deployment", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(imagePullPolice="Always")),
    ("KafkaTopic", lambda d: d["spec"].update(partitons=3)),
    ("KafkaUser", lambda d: d["spec"]["authorization"]["acls"][0].update(operations=["Wrte"])),
    ("Cluster", lambda d: d["spec"].update(instances="three")),
    ("NetworkPolicy", lambda d: d["spec"].update(podSelect={})),
])
def test_the_schemas_refuse_a_misspelt_or_mistyped_field(kind: str, mistake) -> None:
    [document] = [d for d in kube.render(DEPLOY / "overlays" / "production") if d["kind"] == kind][:1]
    assert kube.problems(document) == []
    mistake(document)
    assert kube.problems(document)


def test_every_manifest_file_is_applied_by_its_kustomization() -> None:
    """A file left out of its kustomization would be checked by nothing and applied by no one."""
    for directory in (DEPLOY / "base", *(DEPLOY / "overlays").iterdir()):
        kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
        used = {*kustomization.get("resources", []), *(p["path"] for p in kustomization.get("patches", [])
                                                       if "path" in p)}
        on_disk = {p.name for p in directory.glob("*.yaml")} - {"kustomization.yaml"}
        assert on_disk == {name for name in used if not name.startswith("..")}, directory.name


def test_the_crd_schemas_are_kept_with_their_source_and_licence() -> None:
    sources = (DEPLOY / "schemas" / "SOURCES.md").read_text()
    kept = sorted(p.relative_to(DEPLOY / "schemas").as_posix() for p in (DEPLOY / "schemas").glob("*/*.json"))
    assert kept and all(name in sources for name in kept)
    assert "Apache License 2.0" in sources


def test_the_generated_manifests_are_current() -> None:
    spec = importlib.util.spec_from_file_location("deploy_generate", DEPLOY / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generate  # its dataclasses look their module up there
    spec.loader.exec_module(generate)
    stale = [str(path.relative_to(DEPLOY)) for path, text in generate.rendered().items()
             if not path.exists() or path.read_text() != text]
    assert stale == [], f"run: .venv/bin/python deploy/generate.py ({stale})"


def test_no_secret_value_is_in_any_manifest(rendered) -> None:
    _, objects = rendered
    assert not _all(objects, "Secret")
    for deployment in _all(objects, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        for container in [*pod["containers"], *pod["initContainers"]]:
            for name, variable in _env(container).items():
                if re.search(r"PASSWORD$|SECRET$|_KEY$|_KEYS$", name):
                    assert "secretKeyRef" in variable.get("valueFrom", {}), f"{name} must come from a Secret"
        for volume in pod["volumes"]:
            assert set(volume) & {"secret", "configMap", "emptyDir"}, volume


# Kafka


def test_kafka_is_a_kraft_cluster_with_scram_over_tls_only_and_acls(rendered) -> None:
    _, objects = rendered
    [kafka] = _all(objects, "Kafka")
    spec = kafka["spec"]["kafka"]
    assert [(listener["tls"], listener["authentication"]["type"]) for listener in spec["listeners"]] == [
        (True, "scram-sha-512")]
    assert spec["authorization"]["type"] == "simple"
    assert spec["config"]["auto.create.topics.enable"] is False
    assert spec["config"]["allow.everyone.if.no.acl.found"] is False
    pools = _all(objects, "KafkaNodePool")
    assert {role for pool in pools for role in pool["spec"]["roles"]} == {"controller", "broker"}
    assert all(p["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"] for p in pools)


def test_every_topic_is_declared_and_replicated_as_the_overlay_promises(rendered) -> None:
    overlay, objects = rendered
    topics = {t["spec"]["topicName"]: t["spec"] for t in _all(objects, "KafkaTopic")}
    assert set(topics) == set(TOPICS.values())
    expected = (3, 2) if overlay == "production" else (1, 1)
    for spec in topics.values():
        assert (spec["replicas"], spec["config"]["min.insync.replicas"]) == expected
        assert spec["partitions"] >= 3


def _acls(objects: list[dict[str, Any]], component: str) -> dict[tuple[str, str], set[str]]:
    user = _one(objects, "KafkaUser", f"harambee-{component}")
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    return {(acl["resource"]["type"], acl["resource"]["name"]): set(acl["operations"])
            for acl in user["spec"]["authorization"]["acls"] if acl.get("type", "allow") == "allow"}


def test_each_component_writes_its_own_topic_only_and_only_the_gateway_writes_registry_events(rendered) -> None:
    _, objects = rendered
    writers = {topic: {c for c in COMPONENTS
                       if {"Write", "All"} & _acls(objects, c).get(("topic", topic), set())}
               for topic in TOPICS.values()}
    assert writers == {topic: {c} for c, topic in TOPICS.items()}
    assert writers["registry.events"] == {"gateway"}
    for component in COMPONENTS:
        assert not any(name in ("*", "") for _, name in _acls(objects, component)), "no wildcard grants"


def _subscriptions() -> dict[str, list[Any]]:
    """Each service's consumers as the code builds them."""
    from harambee_assessment.consumers import SUBSCRIPTION as assessment
    from harambee_audit.consumers import log_subscription
    from harambee_audit.signing import CheckpointSigner
    from harambee_intake.consumers import subscription as intake
    from harambee_intake.vault import Vault
    from harambee_interventions.consumers import SUBSCRIPTION as interventions

    subscriptions = {
        "intake": [intake(vault=Vault(os.urandom(32), blind_index_key=os.urandom(32)))],
        "assessment": [assessment],
        "interventions": [interventions],
        "audit": [log_subscription(signer=CheckpointSigner.generate(), checkpoint_every=1)],
    }
    if importlib.util.find_spec("harambee_monitoring") is not None:  # being added beside this work
        subscriptions["monitoring"] = [importlib.import_module("harambee_monitoring.consumers").SUBSCRIPTION]
    return subscriptions


def test_each_component_reads_exactly_the_topics_it_subscribes_to_in_its_own_groups(rendered) -> None:
    _, objects = rendered
    for component, subscriptions in _subscriptions().items():
        acls = _acls(objects, component)
        readable = {name for (kind, name), ops in acls.items() if kind == "topic" and "Read" in ops}
        subscribed = {t for s in subscriptions for t in s.topics}
        if component == "audit" and "monitoring" not in {c.name for c in _COMPONENTS}:
            subscribed.add("monitoring.events")  # audit reads every other component's topic, monitoring's too
        assert readable == subscribed, component
        [(group, operations)] = [(name, ops) for (kind, name), ops in acls.items() if kind == "group"]
        assert "Read" in operations
        assert all(s.name.startswith(group) for s in subscriptions), component
        user = _one(objects, "KafkaUser", f"harambee-{component}")
        [group_acl] = [a for a in user["spec"]["authorization"]["acls"] if a["resource"]["type"] == "group"]
        assert group_acl["resource"]["patternType"] == "prefix" and group == component


# PostgreSQL


def test_each_component_has_its_own_cloudnativepg_cluster_with_its_roles(rendered) -> None:
    overlay, objects = rendered
    clusters = {c["metadata"]["name"]: c["spec"] for c in _all(objects, "Cluster")}
    assert set(clusters) == {f"harambee-pg-{c}" for c in COMPONENTS}
    for component in COMPONENTS:
        spec = clusters[f"harambee-pg-{component}"]
        # Production runs the major version the tests prove the migrations and policies on.
        assert spec["imageName"] == f"ghcr.io/cloudnative-pg/postgresql:{postgres_major()}"
        assert spec["instances"] == (3 if overlay == "production" else 1)
        assert spec["enableSuperuserAccess"] is False
        initdb = spec["bootstrap"]["initdb"]
        assert (initdb["database"], initdb["owner"], initdb["secret"]["name"]) == (
            f"harambee_{component}", f"{component}_owner", f"harambee-db-{component}-owner")
        roles = {role["name"]: role for role in spec["managed"]["roles"]}
        assert set(roles) == {f"{component}_app", f"{component}_relay"}
        for name, role in roles.items():
            assert role["superuser"] is False
            assert role.get("bypassrls", False) is name.endswith("_relay")
            assert role["passwordSecret"]["name"] == f"harambee-db-{name.replace('_', '-')}"


def test_each_database_admits_as_many_connections_as_its_autoscaled_pods_may_open(rendered) -> None:
    from harambee_common.db import create_db_engine

    pool = inspect.signature(create_db_engine).parameters["pool_size"].default
    per_pod = 2 * pool + 2 * 2  # the app pool and its overflow, the relay's pool (2) and its overflow
    _, objects = rendered
    for component in COMPONENTS:
        autoscaler = _one(objects, "HorizontalPodAutoscaler", component)
        parameters = _one(objects, "Cluster", f"harambee-pg-{component}")["spec"]["postgresql"]["parameters"]
        # A rolling update runs one more pod than the most the autoscaler keeps.
        assert int(parameters["max_connections"]) > (autoscaler["spec"]["maxReplicas"] + 1) * per_pod, component


def test_production_backs_up_every_database_continuously_and_nightly() -> None:
    objects = kube.render(DEPLOY / "overlays" / "production")
    stores = {s["metadata"]["name"] for s in _all(objects, "ObjectStore")}
    for component in COMPONENTS:
        cluster = _one(objects, "Cluster", f"harambee-pg-{component}")
        [plugin] = cluster["spec"]["plugins"]
        assert plugin["isWALArchiver"] is True and plugin["parameters"]["barmanObjectName"] in stores
        [backup] = [b for b in _all(objects, "ScheduledBackup") if b["spec"]["cluster"]["name"] == cluster[
            "metadata"]["name"]]
        assert backup["spec"]["method"] == "plugin"
    for store in _all(objects, "ObjectStore"):
        configuration = store["spec"]["configuration"]
        assert configuration["wal"]["encryption"] and configuration["data"]["encryption"]


# The components


def test_each_component_runs_its_migrations_then_serves_with_probes_autoscaler_and_budget(rendered) -> None:
    overlay, objects = rendered
    for component in COMPONENTS:
        deployment = _one(objects, "Deployment", component)
        pod = deployment["spec"]["template"]
        container, *relay = pod["spec"]["containers"]
        [migrate] = pod["spec"]["initContainers"]
        _assert_relay_runs_apart(component, container, relay)
        assert (migrate["args"], container["args"]) == (["migrate"], ["serve"])
        assert migrate["image"] == container["image"]
        assert container["image"] == (f"registry.example/harambee-{component}:0.1.0" if overlay == "production"
                                      else f"harambee/{component}:0.1.0")
        assert container["ports"] == [{"name": "http", "containerPort": PORTS[component]}]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        assert pod["spec"]["automountServiceAccountToken"] is False
        service = _one(objects, "Service", component)
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        assert service["spec"]["ports"][0]["port"] == PORTS[component]
        autoscaler = _one(objects, "HorizontalPodAutoscaler", component)
        assert autoscaler["spec"]["scaleTargetRef"]["name"] == component
        assert autoscaler["spec"]["minReplicas"] == (2 if overlay == "production" else 1)
        budget = _one(objects, "PodDisruptionBudget", component)
        assert budget["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        # A budget that can never be met blocks every drain: one replica allows one unavailable.
        if overlay == "production":
            assert budget["spec"]["minAvailable"] < autoscaler["spec"]["minReplicas"]
        else:
            assert budget["spec"] == budget["spec"] | {"maxUnavailable": 1} and "minAvailable" not in budget["spec"]


# What Pod Security's `restricted` profile (enforced on the namespace) requires; a pod that breaks it is
# refused at admission, which no schema shows.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}


def test_every_pod_meets_the_restricted_pod_security_profile_and_requests_cpu(rendered) -> None:
    _, objects = rendered
    [namespace] = _all(objects, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for deployment in _all(objects, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        name = deployment["metadata"]["name"]
        assert not {"hostNetwork", "hostPID", "hostIPC"} & {k for k, v in pod.items() if v}, name
        assert all(set(volume) - {"name"} <= RESTRICTED_VOLUMES for volume in pod["volumes"]), name
        pod_context = pod.get("securityContext", {})
        for container in [*pod["containers"], *pod["initContainers"]]:
            context = {**pod_context, **container.get("securityContext", {})}
            assert context.get("runAsNonRoot") is True and context.get("runAsUser", 1) != 0, name
            assert context.get("allowPrivilegeEscalation") is False and not context.get("privileged"), name
            assert context["capabilities"]["drop"] == ["ALL"] and not context["capabilities"].get("add"), name
            assert context["seccompProfile"]["type"] in ("RuntimeDefault", "Localhost"), name
            assert not any(port.get("hostPort") for port in container.get("ports", [])), name
        for container in pod["containers"]:  # the autoscaler's utilisation is of the requested CPU
            assert container["resources"]["requests"]["cpu"], name


def _assert_relay_runs_apart(component: str, serve: dict[str, Any], relay: list[dict[str, Any]]) -> None:
    """A service's outbox relay in a container of its own (as `make run` does); the gateway's in its process."""
    if component == "gateway":
        assert relay == [] and "RUN_RELAY" not in _env(serve)
        return
    [relay_container] = relay
    assert (relay_container["args"], relay_container["image"]) == (["relay"], serve["image"])
    assert _env(serve)["RUN_RELAY"]["value"] == "0"
    assert _env(relay_container) == {k: v for k, v in _env(serve).items() if k != "RUN_RELAY"}
    assert relay_container["volumeMounts"] == serve["volumeMounts"]


def test_only_the_migration_holds_the_owners_password_and_each_its_own_database(rendered) -> None:
    _, objects = rendered
    for component in COMPONENTS:
        pod = _pod(objects, component)["spec"]
        [migrate] = pod["initContainers"]
        owner = _env(migrate)["MIGRATION_DATABASE_URL"]["value"]
        host = f"@harambee-pg-{component}-rw:5432/harambee_{component}?sslmode=verify-full"
        assert owner.startswith(f"postgresql+psycopg://{component}_owner:$(OWNER_PASSWORD){host}")
        env = _env(pod["containers"][0])
        assert "MIGRATION_DATABASE_URL" not in env and "OWNER_PASSWORD" not in env
        assert env["DATABASE_URL"]["value"].startswith(f"postgresql+psycopg://{component}_app:$(APP_PASSWORD){host}")
        assert env["RELAY_DATABASE_URL"]["value"].startswith(
            f"postgresql+psycopg://{component}_relay:$(RELAY_PASSWORD){host}")
        assert env["APP_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"harambee-db-{component}-app"


def _variables_the_code_reads() -> set[str]:
    source = "\n".join(p.read_text() for d in ("lib", "gateway", "services") for p in (ROOT / d).rglob("*.py"))
    quoted = set(re.findall(r"""["']([A-Z][A-Z0-9_]+)["']""", source))
    return quoted | {c.url_variable for c in _COMPONENTS if c.name != "gateway"}  # the gateway's routes


def test_every_variable_set_is_one_the_code_reads_or_one_being_added(rendered) -> None:
    _, objects = rendered
    read = _variables_the_code_reads()
    for component in COMPONENTS:
        pod = _pod(objects, component)["spec"]
        for container in [*pod["containers"], *pod["initContainers"]]:
            unknown = set(_env(container)) - read - COMPOSING
            assert unknown == set(), f"{component}: nothing reads {sorted(unknown)}"


def _agreement_keepers() -> set[str]:
    """The services whose app keeps a copy of the agreements (create_service_app(agreements=True))."""
    return {c for c in SERVICES
            if (app := ROOT / "services" / c / f"harambee_{c}" / "app.py").exists()
            and "agreements=True" in app.read_text()}


def test_the_registry_sync_is_on_for_every_service_that_keeps_agreements(rendered) -> None:
    _, objects = rendered
    keepers = _agreement_keepers()
    assert {"intake", "assessment", "audit"} <= keepers
    for component in SERVICES:
        env = _env(_pod(objects, component)["spec"]["containers"][0])
        if component in keepers:
            for name, key in (("REGISTRY_CLIENT_ID", "client-id"), ("REGISTRY_CLIENT_SECRET", "client-secret")):
                ref = env[name]["valueFrom"]["secretKeyRef"]
                assert (ref["name"], ref["key"], ref.get("optional", False)) == (
                    f"harambee-{component}-registry-client", key, False)
            assert env["GATEWAY_URL"]["value"] == "http://gateway:8000"


def _mounted_file(pod: dict[str, Any], path: str) -> dict[str, Any]:
    """The volume a file path of the service container lies in."""
    mounts = {m["mountPath"]: m["name"] for m in pod["spec"]["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    return volumes[mounts[str(Path(path).parent)]]


def test_key_files_are_mounted_from_secrets_of_their_own(rendered) -> None:
    _, objects = rendered
    expected = {("gateway", "GATEWAY_SIGNING_KEY_FILE"): "harambee-gateway-signing-key",
                ("gateway", "GATEWAY_KEY_ENCRYPTION_KEY_FILE"): "harambee-gateway-key-encryption-key",
                ("intake", "INTAKE_KEY_ENCRYPTION_KEY_FILE"): "harambee-intake-keys",
                ("intake", "INTAKE_BLIND_INDEX_KEY_FILE"): "harambee-intake-keys",
                ("audit", "AUDIT_SIGNING_KEY_FILE"): "harambee-audit-signing-key",
                **{(c, "EVENT_SIGNING_KEY_FILE"): f"harambee-{c}-event-signing-key" for c in COMPONENTS},
                **{(c, "KAFKA_SASL_PASSWORD_FILE"): f"harambee-{c}" for c in COMPONENTS}}
    for (component, variable), secret in expected.items():
        pod = _pod(objects, component)
        volume = _mounted_file(pod, _env(pod["spec"]["containers"][0])[variable]["value"])
        assert volume["secret"]["secretName"] == secret, (component, variable)
    for component in COMPONENTS:  # the public keys events are checked against: not secret, the same for all
        pod = _pod(objects, component)
        directory = _env(pod["spec"]["containers"][0])["EVENT_PUBLIC_KEYS_DIR"]["value"]
        mounts = {m["mountPath"]: m["name"] for m in pod["spec"]["containers"][0]["volumeMounts"]}
        volume = {v["name"]: v for v in pod["spec"]["volumes"]}[mounts[directory]]
        assert volume["configMap"]["name"] == "harambee-event-public-keys"


def test_audit_reads_its_retired_checkpoint_keys_from_the_generated_config_map(rendered) -> None:
    _, objects = rendered
    pod = _pod(objects, "audit")
    volume = _mounted_file(pod, _env(pod["spec"]["containers"][0])["AUDIT_RETIRED_KEYS_FILE"]["value"])
    config_map = _one(objects, "ConfigMap", volume["configMap"]["name"])
    assert config_map["data"] == {"retired-keys.pem": ""}


def test_intake_keys_are_files_of_one_secret_and_its_export_sources_are_the_services(rendered) -> None:
    _, objects = rendered
    pod = _pod(objects, "intake")
    env = _env(pod["spec"]["containers"][0])
    assert not {"INTAKE_KEY_ENCRYPTION_KEY", "INTAKE_BLIND_INDEX_KEY"} & set(env), "keys never in variables"
    kek, blind = (Path(env[f"INTAKE_{name}_FILE"]["value"]) for name in ("KEY_ENCRYPTION_KEY", "BLIND_INDEX_KEY"))
    assert kek.parent == blind.parent and kek.name != blind.name, "two keys, neither derived from the other"
    sources = dict(item.split("=", 1) for item in env["INTAKE_SUBJECT_EXPORT_SOURCES"]["value"].split(","))
    assert sources == {"assessment": "http://assessment:8102", "interventions": "http://interventions:8103"}


# Network policies


def _cluster(objects: list[dict[str, Any]]) -> tuple[kube.Cluster, dict[str, kube.Pod]]:
    """The rendered policies over one pod of each kind, plus Strimzi's policy for the listener."""
    pods = {c: kube.Pod(c, f"10.1.0.{i}", "harambee", _pod(objects, c)["metadata"]["labels"])
            for i, c in enumerate(COMPONENTS, start=1)}
    pods |= {f"pg-{c}": kube.Pod(f"pg-{c}", f"10.2.0.{i}", "harambee", {"cnpg.io/cluster": f"harambee-pg-{c}"})
             for i, c in enumerate(COMPONENTS, start=1)}
    pods["kafka"] = kube.Pod("kafka", "10.3.0.1", "harambee",
                             {"strimzi.io/cluster": "harambee", "strimzi.io/kind": "Kafka"})
    pods["dns"] = kube.Pod("dns", "10.4.0.1", "kube-system", {"k8s-app": "kube-dns"})
    pods["ingress"] = kube.Pod("ingress", "10.5.0.1", "ingress", {"app": "ingress-controller"})
    pods["elsewhere"] = kube.Pod("elsewhere", "10.6.0.1", "elsewhere", {"app.kubernetes.io/name": "intake"})
    pods["operator"] = kube.Pod("operator", "10.7.0.1", "cnpg-system", {"app": "cnpg"})
    pods["internet"] = kube.Pod("internet", "203.0.113.10")
    pods["private"] = kube.Pod("private", "192.168.1.10")
    [kafka] = _all(objects, "Kafka")
    [listener] = kafka["spec"]["kafka"]["listeners"]
    strimzi = {"metadata": {"name": "harambee-network-policy-kafka", "namespace": "harambee"},
               "spec": {"podSelector": {"matchLabels": {"strimzi.io/cluster": "harambee", "strimzi.io/kind": "Kafka"}},
                        "policyTypes": ["Ingress"],
                        "ingress": [{"from": listener["networkPolicyPeers"], "ports": [{"port": listener["port"]}]}]}}
    namespaces = {"harambee": {}, "kube-system": {}, "ingress": {"harambee.io/ingress": "true"}, "elsewhere": {},
                  "cnpg-system": {"kubernetes.io/metadata.name": "cnpg-system"}}
    return kube.Cluster(list(pods.values()), namespaces, [*_all(objects, "NetworkPolicy"), strimzi]), pods


def test_from_outside_only_the_gateway_is_reachable_and_only_through_the_ingress_controller(rendered) -> None:
    _, objects = rendered
    cluster, pods = _cluster(objects)
    targets = [(name, port) for name, port in [*((c, PORTS[c]) for c in COMPONENTS),
                                               *((f"pg-{c}", 5432) for c in COMPONENTS), ("kafka", 9093)]]
    for outsider in ("ingress", "elsewhere", "internet", "private", "dns"):
        reached = {name for name, port in targets if cluster.allows(pods[outsider], pods[name], port)}
        assert reached == ({"gateway"} if outsider == "ingress" else set()), outsider


def _forwarded_allow_ips(objects: list[dict[str, Any]]) -> str:
    """The addresses whose X-Forwarded-For the gateway believes, as the manifests set them."""
    [container] = _pod(objects, "gateway")["spec"]["containers"]
    assert _env(container)["FORWARDED_ALLOW_IPS"]["valueFrom"] == {
        "configMapKeyRef": {"name": "harambee-config", "key": "forwarded-allow-ips"}}
    return _one(objects, "ConfigMap", "harambee-config")["data"]["forwarded-allow-ips"]


@pytest.mark.parametrize("kustomization", ["base", "overlays/single-node", "overlays/production"])
def test_the_gateway_believes_forwarded_addresses_from_named_networks_only(kustomization: str) -> None:
    setting = _forwarded_allow_ips(kube.render(DEPLOY / kustomization))
    # uvicorn takes an entry it cannot parse as a name to compare with, silently: each must be an address or a
    # network, and none all of them ("*" would believe whatever a caller writes into the header).
    for entry in setting.split(","):
        assert ipaddress.ip_network(entry.strip()).prefixlen > 0, setting


def _caller_seen(trusted: str, *, peer: str, forwarded_for: str) -> str:
    """The caller's address the gateway's server gives the app, for a connection from `peer` with that header."""
    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["client"][0])

    scope = {"type": "http", "client": (peer, 40_000), "headers": [(b"x-forwarded-for", forwarded_for.encode())]}
    asyncio.run(ProxyHeadersMiddleware(app, trusted_hosts=trusted)(scope, None, None))  # type: ignore[arg-type]
    return seen[0]


def test_a_caller_cannot_choose_its_own_address_through_the_ingress_controller(rendered) -> None:
    _, objects = rendered
    setting = _forwarded_allow_ips(objects)
    controller = str(next(ipaddress.ip_network(setting.split(",")[0].strip()).hosts()))
    # What the caller wrote, then the peer the controller saw (it ends the header with it).
    forged = "203.0.113.9, 198.51.100.7"
    assert _caller_seen(setting, peer=controller, forwarded_for=forged) == "198.51.100.7"
    assert _caller_seen("*", peer=controller, forwarded_for=forged) == "203.0.113.9"  # what "*" let through


def test_each_component_reaches_its_own_database_the_brokers_and_its_named_peers_only(rendered) -> None:
    _, objects = rendered
    cluster, pods = _cluster(objects)
    for component in COMPONENTS:
        source = pods[component]
        databases = {c for c in COMPONENTS if cluster.allows(source, pods[f"pg-{c}"], 5432)}
        assert databases == {component}
        assert cluster.allows(source, pods["kafka"], 9093)
        assert not cluster.allows(source, pods["kafka"], 9092), "no unauthenticated listener"
        assert cluster.allows(source, pods["dns"], 53, "UDP")
        peers = {c for c in COMPONENTS if c != component and cluster.allows(source, pods[c], PORTS[c])}
        assert peers == CALLS[component], component
        assert cluster.allows(source, pods["internet"], 443) is (component in INTERNET)
        assert not cluster.allows(source, pods["internet"], 80)
        assert not cluster.allows(source, pods["private"], 443), "webhooks never reach a private address"


def test_a_database_admits_its_component_its_own_instances_and_the_operator_only(rendered) -> None:
    _, objects = rendered
    cluster, pods = _cluster(objects)
    for component in COMPONENTS:
        database = pods[f"pg-{component}"]
        admitted = {name for name, pod in pods.items() if name != database.name
                    and cluster.allows(pod, database, 5432)}
        # Pods that no policy limits on their way out (the brokers, the other databases) are still refused
        # at the database unless its own policy names them.
        assert admitted == {component, "operator"}, component


def _names_the_readme_creates() -> set[str]:
    """Every Secret and ConfigMap name the README's commands create, its per-component loops expanded."""
    names = set()
    for name in re.findall(r"harambee-[a-z0-9$-]+", (DEPLOY / "README.md").read_text()):
        names |= {name.replace("$c", c).replace("$kind", kind)
                  for c in COMPONENTS for kind in ("owner", "app", "relay")}
    return names


def test_the_readme_creates_every_secret_and_config_map_the_manifests_reference() -> None:
    objects = kube.render(DEPLOY / "overlays" / "production")
    needed: set[str] = set()
    for deployment in _all(objects, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        for container in [*pod["containers"], *pod["initContainers"]]:
            needed |= {v["valueFrom"]["secretKeyRef"]["name"] for v in container.get("env", [])
                       if "secretKeyRef" in v.get("valueFrom", {})}
        needed |= {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        needed |= {v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v}
    for cluster in _all(objects, "Cluster"):
        needed.add(cluster["spec"]["bootstrap"]["initdb"]["secret"]["name"])
        needed |= {role["passwordSecret"]["name"] for role in cluster["spec"]["managed"]["roles"]}
    for store in _all(objects, "ObjectStore"):
        needed.add(store["spec"]["configuration"]["s3Credentials"]["accessKeyId"]["name"])
    generated = {o["metadata"]["name"] for o in _all(objects, "ConfigMap")}
    # Made by the operators: Strimzi (its cluster CA, a Secret per KafkaUser), CloudNativePG (a CA per cluster).
    by_operators = {"harambee-cluster-ca-cert"} | {f"harambee-{c}" for c in COMPONENTS} | {
        f"harambee-pg-{c}-ca" for c in COMPONENTS}
    assert needed - generated - by_operators - _names_the_readme_creates() == set()
