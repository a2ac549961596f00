"""Writes deploy/base/<component>.yaml, deploy/base/topics.yaml and the production overlay's backups.

    .venv/bin/python deploy/generate.py

Each component's manifests (its Kafka principal, its own PostgreSQL cluster, its Deployment, Service,
autoscaler, disruption budget and network policy) follow one pattern; this writes them from the one
list of components (harambee_common.components) and the table below of what differs, so a new
component is one row here. A test (tests/stack/test_deploy.py) fails when the committed files are not
what this writes. Everything else in deploy/ is written by hand.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harambee_common import components
from harambee_common.components import Component

DEPLOY = Path(__file__).resolve().parent
BASE = DEPLOY / "base"
PRODUCTION = DEPLOY / "overlays" / "production"

KAFKA_CLUSTER = "harambee"
# Every topic's partition count in the base: events are keyed "<tenant>:<subject>", so one tenant's
# events about one subject keep their order on one partition and tenants spread across the rest.
PARTITIONS = 12
IMAGE_TAG = "0.1.0"
# A pod's most connections to its database: the app pool (harambee_common.db: 20, and as many overflow)
# and the relay's (2 and 2); the database allows that many to every replica the autoscaler may run and
# to the one more a rolling update starts, and some to spare.
CONNECTIONS_PER_POD = 2 * 20 + 2 * 2
SPARE_CONNECTIONS = 30  # migrations, replication, the operator, an operator's psql
RUN = "/run/secrets/harambee"  # where every mounted secret and key file lives in a container
# Addresses a webhook or an external directory may be at: the public internet, never a private range.
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10",
                  "127.0.0.0/8", "0.0.0.0/8"]
# Being added in parallel, as harambee_common.components will list it; until then, this one.
MONITORING = Component("monitoring", 8105)


def all_components() -> tuple[Component, ...]:
    """The platform's components, with monitoring until harambee_common.components lists it."""
    listed = components.COMPONENTS
    return listed if any(c.name == MONITORING.name for c in listed) else (*listed, MONITORING)


@dataclass(frozen=True)
class Shape:
    """What one component needs beyond the pattern every component follows."""

    # Topics its consumers read (its subscriptions; the test compares them with the code's).
    reads: tuple[str, ...] = ()
    # Other components it calls over HTTP (every service also calls the gateway: tokens and JWKS).
    calls: tuple[str, ...] = ()
    # It keeps a copy of the data-sharing agreements, synced from the registry's read API.
    agreements: bool = False
    # It calls addresses on the public internet (webhooks, external directories) on 443.
    internet: bool = False
    env: tuple[dict[str, Any], ...] = ()
    # Secret name -> the directory under RUN it is mounted at, read-only.
    secret_files: dict[str, str] = field(default_factory=dict)
    config_files: dict[str, str] = field(default_factory=dict)
    max_replicas: int = 6


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _value(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


ALL_TOPICS = tuple(c.topic for c in all_components())
SERVICE_NAMES = tuple(c.name for c in all_components() if c.name != components.GATEWAY.name)

SHAPES: dict[str, Shape] = {
    "gateway": Shape(
        calls=SERVICE_NAMES,
        internet=True,  # a county's external directory (OpenID Connect)
        env=(
            _value("GATEWAY_SIGNING_KEY_FILE", f"{RUN}/token-signing/signing-key.pem"),
            # Seals every registry secret (rotated signing keys, TOTP secrets, directory client secrets).
            _value("GATEWAY_KEY_ENCRYPTION_KEY_FILE", f"{RUN}/gateway-kek/key-encryption-key"),
            # Behind the ingress controller, the only caller from outside (network policy): its
            # X-Forwarded-For is the client address the rate limits count.
            {"name": "FORWARDED_ALLOW_IPS",
             "valueFrom": {"configMapKeyRef": {"name": "harambee-config", "key": "forwarded-allow-ips"}}},
            *(_value(c.url_variable, f"http://{c.name}:{c.port}")
              for c in all_components() if c.name != components.GATEWAY.name),
        ),
        secret_files={"harambee-gateway-signing-key": "token-signing",
                      "harambee-gateway-key-encryption-key": "gateway-kek"},
        max_replicas=10,
    ),
    "intake": Shape(
        reads=("registry.events", "assessment.events"),
        calls=("assessment", "interventions"),  # a person's access request gathers their data there
        agreements=True,
        internet=True,  # partners' webhooks
        # Keys from files only (base64 of 32 random bytes each); a retired KEK is added as a file of the
        # same Secret and named in INTAKE_RETIRED_KEY_ENCRYPTION_KEY_FILES during a rotation (OPERATIONS.md).
        env=(
            _value("INTAKE_KEY_ENCRYPTION_KEY_FILE", f"{RUN}/intake-keys/key-encryption-key"),
            _value("INTAKE_BLIND_INDEX_KEY_FILE", f"{RUN}/intake-keys/blind-index-key"),
            _value("INTAKE_SUBJECT_EXPORT_SOURCES", "assessment=http://assessment:8102,"
                                                    "interventions=http://interventions:8103"),
        ),
        secret_files={"harambee-intake-keys": "intake-keys"},
    ),
    "assessment": Shape(
        reads=("intake.events", "registry.events", "assessment.events"),
        agreements=True,
    ),
    "interventions": Shape(reads=("assessment.events",)),
    "audit": Shape(
        # Every other component's topic: its own (checkpoints) would feed the log its own tail.
        reads=tuple(t for t in ALL_TOPICS if t != components.AUDIT.topic),
        agreements=True,
        env=(
            _value("AUDIT_SIGNING_KEY_FILE", f"{RUN}/checkpoint-signing/signing-key.pem"),
            _value("AUDIT_RETIRED_KEYS_FILE", f"{RUN}/checkpoint-retired/retired-keys.pem"),
        ),
        secret_files={"harambee-audit-signing-key": "checkpoint-signing"},
        config_files={"harambee-audit-retired-keys": "checkpoint-retired"},
    ),
    # Its consumer applies the registry's agreement events: national figures are read under agreements.
    "monitoring": Shape(reads=("registry.events", "intake.events", "assessment.events", "interventions.events"),
                        agreements=True),
}


def labels(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/part-of": "harambee"}


def pg_cluster(component: str) -> str:
    """The name of the component's own CloudNativePG cluster (its services: <name>-rw, -ro, -r)."""
    return f"harambee-pg-{component}"


def kafka_user(component: str) -> str:
    """The component's Kafka principal; Strimzi keeps its SCRAM password in a Secret of this name."""
    return f"harambee-{component}"


def _database_url(c: Component, role: str, password: str) -> str:
    host = f"{pg_cluster(c.name)}-rw"
    return (f"postgresql+psycopg://{c.name}_{role}:$({password})@{host}:5432/{c.database}"
            f"?sslmode=verify-full&sslrootcert={RUN}/postgres-ca/ca.crt")


def kafka_user_manifest(c: Component, shape: Shape) -> dict[str, Any]:
    """SCRAM-SHA-512 principal; it writes its own topic only, reads what it subscribes to."""
    acls: list[dict[str, Any]] = []
    for topic in ALL_TOPICS:
        granted = {"Describe"}  # a client's metadata request lists the platform's topics
        if topic == c.topic:
            granted.add("Write")
        if topic in shape.reads:
            granted.add("Read")
        operations = [op for op in ("Read", "Write", "Describe") if op in granted]
        acls.append({"resource": {"type": "topic", "name": topic, "patternType": "literal"},
                     "operations": operations})
    if shape.reads:
        # Its consumer groups are named after its subscriptions, which start with its name.
        acls.append({"resource": {"type": "group", "name": c.name, "patternType": "prefix"},
                     "operations": ["Read", "Describe"]})
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaUser",
        "metadata": {"name": kafka_user(c.name), "labels": {"strimzi.io/cluster": KAFKA_CLUSTER, **labels(c.name)}},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": acls},
        },
    }


def postgres_manifest(c: Component, shape: Shape) -> dict[str, Any]:
    """The component's own PostgreSQL cluster: its database, owned by <c>_owner, and the app and relay roles."""
    def role(kind: str, **attributes: Any) -> dict[str, Any]:
        name = f"{c.name}_{kind}"
        return {"name": name, "ensure": "present", "login": True, "superuser": False, **attributes,
                "passwordSecret": {"name": f"harambee-db-{c.name}-{kind}"}}

    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        # Not the pods' labels: the platform's network policies select those, never a database's pods.
        "metadata": {"name": pg_cluster(c.name), "labels": {"harambee.io/component": c.name}},
        "spec": {
            "instances": 3,
            "imageName": "ghcr.io/cloudnative-pg/postgresql:18",
            "enableSuperuserAccess": False,
            "bootstrap": {"initdb": {
                "database": c.database, "owner": f"{c.name}_owner",
                "secret": {"name": f"harambee-db-{c.name}-owner"},
                "dataChecksums": True,
            }},
            "managed": {"roles": [role("app"), role("relay", bypassrls=True)]},
            "postgresql": {"parameters": {
                "max_connections": str((shape.max_replicas + 1) * CONNECTIONS_PER_POD + SPARE_CONNECTIONS)}},
            "storage": {"size": "20Gi"},
            "affinity": {"enablePodAntiAffinity": True, "topologyKey": "kubernetes.io/hostname"},
        },
    }


def _volumes(c: Component, shape: Shape) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    mounts = [{"name": "tmp", "mountPath": "/tmp"},
              {"name": "postgres-ca", "mountPath": f"{RUN}/postgres-ca", "readOnly": True},
              {"name": "kafka-ca", "mountPath": f"{RUN}/kafka-ca", "readOnly": True},
              {"name": "kafka-password", "mountPath": f"{RUN}/kafka", "readOnly": True},
              {"name": "event-signing", "mountPath": f"{RUN}/event-signing", "readOnly": True},
              {"name": "event-public-keys", "mountPath": f"{RUN}/event-public-keys", "readOnly": True}]
    volumes: list[dict[str, Any]] = [
        {"name": "tmp", "emptyDir": {}},
        {"name": "postgres-ca", "secret": {"secretName": f"{pg_cluster(c.name)}-ca",
                                           "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"name": "kafka-ca", "secret": {"secretName": f"{KAFKA_CLUSTER}-cluster-ca-cert",
                                        "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"name": "kafka-password", "secret": {"secretName": kafka_user(c.name),
                                              "items": [{"key": "password", "path": "password"}]}},
        {"name": "event-signing", "secret": {"secretName": f"harambee-{c.name}-event-signing-key"}},
        {"name": "event-public-keys", "configMap": {"name": "harambee-event-public-keys"}},
    ]
    for secret, directory in shape.secret_files.items():
        mounts.append({"name": directory, "mountPath": f"{RUN}/{directory}", "readOnly": True})
        volumes.append({"name": directory, "secret": {"secretName": secret}})
    for config_map, directory in shape.config_files.items():
        mounts.append({"name": directory, "mountPath": f"{RUN}/{directory}", "readOnly": True})
        volumes.append({"name": directory, "configMap": {"name": config_map}})
    return mounts, volumes


def _config(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"configMapKeyRef": {"name": "harambee-config", "key": key}}}


def deployment_manifest(c: Component, shape: Shape) -> dict[str, Any]:
    """Migrations in an init container as the owner; the service as the app and relay roles."""
    image = f"harambee/{c.name}:{IMAGE_TAG}"
    hardened = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
    mounts, volumes = _volumes(c, shape)
    env = [
        _secret_env("APP_PASSWORD", f"harambee-db-{c.name}-app", "password"),
        _secret_env("RELAY_PASSWORD", f"harambee-db-{c.name}-relay", "password"),
        _value("DATABASE_URL", _database_url(c, "app", "APP_PASSWORD")),
        _value("RELAY_DATABASE_URL", _database_url(c, "relay", "RELAY_PASSWORD")),
        _config("HARAMBEE_ISSUER", "issuer"),
        _config("HARAMBEE_AUDIENCE", "audience"),
        _config("JWKS_URL", "jwks-url"),
        _value("HOST", "0.0.0.0"),
        _value("PORT", str(c.port)),
        # The broker: SCRAM-SHA-512 over TLS, as this component's own principal.
        _config("KAFKA_BOOTSTRAP_SERVERS", "kafka-bootstrap-servers"),
        _value("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
        _value("KAFKA_SASL_USERNAME", kafka_user(c.name)),
        _value("KAFKA_SASL_PASSWORD_FILE", f"{RUN}/kafka/password"),
        _value("KAFKA_SSL_CAFILE", f"{RUN}/kafka-ca/ca.crt"),
        # Its events are signed with its own Ed25519 key; others' are checked against their pinned keys.
        _value("EVENT_SIGNING_KEY_FILE", f"{RUN}/event-signing/signing-key.pem"),
        _value("EVENT_PUBLIC_KEYS_DIR", f"{RUN}/event-public-keys"),
    ]
    if shape.agreements:
        # The registry sync: the agreement copy is loaded at start and refreshed periodically, from the
        # gateway inside the cluster (the issuer's public URL is outside what the network policy allows).
        env += [_secret_env("REGISTRY_CLIENT_ID", f"harambee-{c.name}-registry-client", "client-id"),
                _secret_env("REGISTRY_CLIENT_SECRET", f"harambee-{c.name}-registry-client", "client-secret"),
                _value(components.GATEWAY.url_variable, f"http://{components.GATEWAY.name}:{components.GATEWAY.port}")]
    env += list(shape.env)
    # A service's outbox relay runs in a container of its own, as `make run` runs it in a process of its
    # own: beside the API in one interpreter it costs a third of the referrals per second (cli.py).
    # The gateway's relay stays in its process, as in `make run`.
    relay: list[dict[str, Any]] = []
    relay_apart: list[dict[str, Any]] = []
    if c.name != components.GATEWAY.name:
        relay_apart = [_value("RUN_RELAY", "0")]
        relay = [{"name": "relay", "image": image, "args": ["relay"], "env": env,
                  "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                  "securityContext": hardened, "volumeMounts": mounts}]
    migrate_env = [
        _secret_env("OWNER_PASSWORD", f"harambee-db-{c.name}-owner", "password"),
        _value("MIGRATION_DATABASE_URL", _database_url(c, "owner", "OWNER_PASSWORD")),
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": c.name, "labels": labels(c.name)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": c.name}},
            # Zero downtime: a new pod must be ready before an old one goes.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels(c.name)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "terminationGracePeriodSeconds": 30,
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": c.name}},
                    }],
                    "initContainers": [{
                        "name": "migrate", "image": image, "args": ["migrate"], "env": migrate_env,
                        "securityContext": hardened,
                        "volumeMounts": [m for m in mounts if m["name"] in ("tmp", "postgres-ca")],
                    }],
                    "containers": [{
                        "name": c.name, "image": image, "args": ["serve"],
                        "ports": [{"name": "http", "containerPort": c.port}],
                        "env": env + relay_apart,
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"},
                                           "periodSeconds": 5, "failureThreshold": 3},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                                          "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
                        # Endpoints stop sending to a terminating pod a moment after it is told to stop.
                        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
                        "securityContext": hardened,
                        "volumeMounts": mounts,
                    }, *relay],
                    "volumes": volumes,
                },
            },
        },
    }


def service_manifest(c: Component) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": c.name, "labels": labels(c.name)},
        "spec": {"selector": {"app.kubernetes.io/name": c.name},
                 "ports": [{"name": "http", "port": c.port, "targetPort": "http"}]},
    }


def autoscaler_manifest(c: Component, shape: Shape) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": c.name, "labels": labels(c.name)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": c.name},
            "minReplicas": 2,
            "maxReplicas": shape.max_replicas,
            "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        },
    }


def disruption_budget_manifest(c: Component) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": c.name, "labels": labels(c.name)},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": c.name}},
                 "unhealthyPodEvictionPolicy": "AlwaysAllow"},
    }


def _pods(component: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {"app.kubernetes.io/name": component}}}


def _tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def network_policy_manifest(c: Component, shape: Shape) -> dict[str, Any]:
    """Who may call it, and whom it may reach: its database, the brokers, DNS, and its named peers."""
    by_name = {x.name: x for x in all_components()}
    callers = [name for name, other in SHAPES.items() if c.name in other.calls or
               (c.name == components.GATEWAY.name and name != c.name)]
    ingress: list[dict[str, Any]] = []
    if c.name == components.GATEWAY.name:
        # From outside, through the ingress controller only (its namespace: see the README).
        ingress.append({"from": [{"namespaceSelector": {"matchLabels": {"harambee.io/ingress": "true"}}}],
                        "ports": _tcp(c.port)})
    if callers:
        ingress.append({"from": [_pods(name) for name in sorted(callers)], "ports": _tcp(c.port)})
    egress: list[dict[str, Any]] = [
        {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
         "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
        {"to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": pg_cluster(c.name)}}}], "ports": _tcp(5432)},
        {"to": [{"podSelector": {"matchLabels": {"strimzi.io/cluster": KAFKA_CLUSTER, "strimzi.io/kind": "Kafka"}}}],
         "ports": _tcp(9093)},
    ]
    peers = sorted({*shape.calls, *([components.GATEWAY.name] if c.name != components.GATEWAY.name else [])})
    for peer in peers:
        egress.append({"to": [_pods(peer)], "ports": _tcp(by_name[peer].port)})
    if shape.internet:
        egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}], "ports": _tcp(443)})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": c.name, "labels": labels(c.name)},
        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": c.name}},
                 "policyTypes": ["Ingress", "Egress"], "ingress": ingress, "egress": egress},
    }


def database_network_policy_manifest(c: Component) -> dict[str, Any]:
    """Its database admits the component (and its own instances and the operator), no other."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": pg_cluster(c.name), "labels": labels(c.name)},
        "spec": {
            "podSelector": {"matchLabels": {"cnpg.io/cluster": pg_cluster(c.name)}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [_pods(c.name)], "ports": _tcp(5432)},
                # Streaming replication and the instance manager between the cluster's own instances.
                {"from": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": pg_cluster(c.name)}}}],
                 "ports": _tcp(5432, 8000)},
                {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cnpg-system"}}}],
                 "ports": _tcp(5432, 8000)},
            ],
        },
    }


def component_manifests(c: Component) -> list[dict[str, Any]]:
    shape = SHAPES[c.name]
    return [
        kafka_user_manifest(c, shape),
        postgres_manifest(c, shape),
        database_network_policy_manifest(c),
        deployment_manifest(c, shape),
        service_manifest(c),
        autoscaler_manifest(c, shape),
        disruption_budget_manifest(c),
        network_policy_manifest(c, shape),
    ]


def topic_manifests() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "kafka.strimzi.io/v1",
            "kind": "KafkaTopic",
            "metadata": {"name": c.topic.replace(".", "-"), "labels": {"strimzi.io/cluster": KAFKA_CLUSTER}},
            "spec": {"topicName": c.topic, "partitions": PARTITIONS, "replicas": 3,
                     "config": {"min.insync.replicas": 2, "retention.ms": 604800000}},
        }
        for c in all_components()
    ]


BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"


def backup_manifests(c: Component) -> list[dict[str, Any]]:
    """Continuous WAL archiving and a nightly base backup of the component's database, to object storage."""
    store = f"{pg_cluster(c.name)}-backups"
    credentials = {"name": "harambee-backup-object-store"}
    return [
        {
            "apiVersion": "barmancloud.cnpg.io/v1",
            "kind": "ObjectStore",
            "metadata": {"name": store},
            "spec": {
                "configuration": {
                    "destinationPath": f"s3://harambee-backups/{c.name}",
                    "s3Credentials": {
                        "accessKeyId": {**credentials, "key": "access-key-id"},
                        "secretAccessKey": {**credentials, "key": "secret-access-key"},
                    },
                    "wal": {"compression": "zstd", "encryption": "AES256"},
                    "data": {"compression": "gzip", "encryption": "AES256"},
                },
                "retentionPolicy": "30d",
            },
        },
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": {"name": pg_cluster(c.name)},
            "spec": {"plugins": [{"name": BARMAN_PLUGIN, "isWALArchiver": True,
                                  "parameters": {"barmanObjectName": store}}]},
        },
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "ScheduledBackup",
            "metadata": {"name": f"{pg_cluster(c.name)}-nightly"},
            "spec": {"cluster": {"name": pg_cluster(c.name)}, "schedule": "0 0 1 * * *",
                     "backupOwnerReference": "self", "method": "plugin",
                     "pluginConfiguration": {"name": BARMAN_PLUGIN}},
        },
    ]


HEADER = "# Generated by deploy/generate.py from harambee_common.components; edit that, not this.\n"


def dump(documents: list[dict[str, Any]], comment: str) -> str:
    body = yaml.safe_dump_all(documents, sort_keys=False, width=120)
    return f"{HEADER}# {comment}\n{body}"


def rendered() -> dict[Path, str]:
    """Every file this writes, by path, with its text."""
    files = {BASE / "topics.yaml": dump(topic_manifests(), "The topics, one per producing component.")}
    for c in all_components():
        files[BASE / f"{c.name}.yaml"] = dump(
            component_manifests(c),
            f"{c.name}: Kafka principal, PostgreSQL cluster, Deployment, Service, autoscaler, budget, network policy.",
        )
    objects = [d for c in all_components() for d in backup_manifests(c)]
    files[PRODUCTION / "backups.yaml"] = dump(
        [d for d in objects if d["kind"] != "Cluster"],
        "Backups: per component database, WAL archived continuously and a base backup nightly (OPERATIONS.md).")
    files[PRODUCTION / "backup-archiving.yaml"] = dump(
        [d for d in objects if d["kind"] == "Cluster"],
        "A patch: each database archives its WAL to its object store through the Barman Cloud plugin.")
    return files


def main() -> None:
    for path, text in rendered().items():
        path.write_text(text)
        print(path.relative_to(DEPLOY), file=sys.stderr)


if __name__ == "__main__":
    main()
