"""The offline checks of tests/stack/kube.py, held to the Kubernetes API's own rules on small cases, so that
the deploy tests' verdicts (valid, reachable, refused) can be trusted."""

from __future__ import annotations

from typing import Any

from tests.stack import kube

WEB = kube.Pod("web", "10.0.0.1", "app", {"role": "web"})
DB = kube.Pod("db", "10.0.0.2", "app", {"role": "db"})
OTHER_NS_WEB = kube.Pod("other-web", "10.0.1.1", "other", {"role": "web"})
OUTSIDE = kube.Pod("outside", "198.51.100.7")
NAMESPACES = {"app": {"team": "a"}, "other": {"team": "b"}}


def _policy(name: str, namespace: str = "app", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _cluster(*policies: dict[str, Any]) -> kube.Cluster:
    return kube.Cluster([WEB, DB, OTHER_NS_WEB, OUTSIDE], NAMESPACES, list(policies))


def test_without_policies_everything_is_open() -> None:
    cluster = _cluster()
    assert cluster.allows(WEB, DB, 5432) and cluster.allows(OTHER_NS_WEB, DB, 1) and cluster.allows(OUTSIDE, WEB, 80)


def test_a_pod_selected_for_ingress_admits_only_what_a_rule_admits() -> None:
    deny = _policy("deny", podSelector={}, policyTypes=["Ingress"])
    assert not _cluster(deny).allows(WEB, DB, 5432)
    allow = _policy("db", podSelector={"matchLabels": {"role": "db"}}, policyTypes=["Ingress"],
                    ingress=[{"from": [{"podSelector": {"matchLabels": {"role": "web"}}}],
                              "ports": [{"protocol": "TCP", "port": 5432}]}])
    cluster = _cluster(deny, allow)
    assert cluster.allows(WEB, DB, 5432)
    assert not cluster.allows(WEB, DB, 5433), "another port"
    assert not cluster.allows(WEB, DB, 5432, "UDP"), "another protocol"
    assert not cluster.allows(OTHER_NS_WEB, DB, 5432), "a pod selector alone means the policy's own namespace"
    assert not cluster.allows(DB, WEB, 80), "the deny covers every pod"


def test_namespace_and_pod_selectors_in_one_peer_are_anded_in_two_peers_ored() -> None:
    both = [{"namespaceSelector": {"matchLabels": {"team": "b"}}, "podSelector": {"matchLabels": {"role": "web"}}}]
    either = [{"namespaceSelector": {"matchLabels": {"team": "b"}}}, {"podSelector": {"matchLabels": {"role": "db"}}}]
    anded = _cluster(_policy("p", podSelector={"matchLabels": {"role": "web"}}, policyTypes=["Ingress"],
                             ingress=[{"from": both}]))
    assert anded.allows(OTHER_NS_WEB, WEB, 80) and not anded.allows(DB, WEB, 80)
    ored = _cluster(_policy("p", podSelector={"matchLabels": {"role": "web"}}, policyTypes=["Ingress"],
                            ingress=[{"from": either}]))
    assert ored.allows(OTHER_NS_WEB, WEB, 80) and ored.allows(DB, WEB, 80)


def test_egress_needs_a_rule_and_the_destination_must_admit_it_too() -> None:
    egress = _policy("web-out", podSelector={"matchLabels": {"role": "web"}}, policyTypes=["Egress"],
                     egress=[{"to": [{"podSelector": {"matchLabels": {"role": "db"}}}]}])
    assert _cluster(egress).allows(WEB, DB, 5432)
    assert not _cluster(egress).allows(WEB, OUTSIDE, 443)
    closed_db = _policy("db-closed", podSelector={"matchLabels": {"role": "db"}}, policyTypes=["Ingress"])
    assert not _cluster(egress, closed_db).allows(WEB, DB, 5432)


def test_address_blocks_match_addresses_outside_their_exceptions_and_never_a_pod_by_selector() -> None:
    internet = _policy("out", podSelector={"matchLabels": {"role": "web"}}, policyTypes=["Egress"],
                       egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                                "ports": [{"port": 443}]}])
    cluster = _cluster(internet)
    assert cluster.allows(WEB, OUTSIDE, 443)
    assert not cluster.allows(WEB, DB, 443), "10.0.0.2 is excepted"
    assert not _cluster(_policy("sel", podSelector={}, policyTypes=["Ingress"],
                                ingress=[{"from": [{"podSelector": {}}]}])).allows(OUTSIDE, WEB, 80)


def test_match_expressions() -> None:
    def admits(operator: str, values: list[str] | None = None) -> bool:
        expression = {"key": "role", "operator": operator, **({"values": values} if values is not None else {})}
        policy = _policy("p", podSelector={"matchLabels": {"role": "db"}}, policyTypes=["Ingress"],
                         ingress=[{"from": [{"podSelector": {"matchExpressions": [expression]}}]}])
        return _cluster(policy).allows(WEB, DB, 1)

    assert admits("In", ["web"]) and not admits("In", ["db"])
    assert admits("NotIn", ["db"]) and not admits("NotIn", ["web"])
    assert admits("Exists") and not admits("DoesNotExist")


def test_schema_problems_name_the_object_and_the_field() -> None:
    topic = {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": {"name": "t"},
             "spec": {"partitions": 3, "replicas": 1}}
    assert kube.problems(topic) == []
    [problem] = kube.problems({**topic, "spec": {"partitions": "three"}})
    assert problem.startswith("KafkaTopic/t: spec.partitions:")
    assert kube.problems({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}) == [
        "Widget/w: no schema for example.com/v1 Widget"]
    assert kube.problems({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}) == []
    assert kube.problems({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": 1}})
