"""Across the platform: no container runs as root or without limits, nothing is exposed
without authentication (oauth2-proxy in front under OIDC), MLflow admits only its clients."""

from __future__ import annotations

from typing import Any

import pytest
from plans import ENVIRONMENTS, find, objects, plan, pod_specs


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_container_runs_as_root_or_without_limits(env: str) -> None:
    specs = pod_specs(plan(env))
    assert len(specs) >= 8
    for where, spec in specs:
        pod_non_root = (spec.get("securityContext") or {}).get("runAsNonRoot") is True
        for c in spec["containers"]:
            sc = c.get("securityContext") or {}
            assert pod_non_root or sc.get("runAsNonRoot") is True, where
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("capabilities") == {"drop": ["ALL"]}, where
            limits = c["resources"]["limits"]
            assert limits.get("cpu") and limits.get("memory"), where


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_nothing_is_exposed_without_authentication(env: str) -> None:
    check_exposure(plan(env))


def test_oidc_puts_oauth2_proxy_in_front_of_both_uis(oidc_plan: dict[str, Any]) -> None:
    ingresses = check_exposure(oidc_plan)
    hosts = {i["spec"]["rules"][0]["host"]: i for i in ingresses}
    assert set(hosts) == {"mlflow.ml.example.com", "pipelines.ml.example.com"}
    for ingress in ingresses:
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend["name"] == "oauth2-proxy"
        # the issuer named for what it is: with an ACME account, `acme`
        assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "acme"
        assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    # MLflow does not authenticate in oidc mode: only the proxy faces the load balancer
    direct = find(oidc_plan, "NetworkPolicy", "mlflow-ingress", "mlflow")["spec"]["ingress"][0]
    assert not any("ipBlock" in peer for peer in direct["from"])
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "oauth2-proxy"}}} in (
        direct["from"]
    )
    proxy = find(oidc_plan, "NetworkPolicy", "oauth2-proxy-ingress", "mlflow")["spec"]
    assert proxy["ingress"][0]["from"] == [{"ipBlock": {"cidr": "10.40.0.0/16"}}]
    issuer = find(oidc_plan, "ClusterIssuer", "acme")
    assert issuer["spec"]["acme"]["email"] == "platform@example.com"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_mlflow_admits_only_its_client_namespaces(env: str) -> None:
    p = plan(env)
    spec = find(p, "NetworkPolicy", "mlflow-ingress", "mlflow")["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "mlflow"}}
    (rule,) = spec["ingress"]
    namespaces = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for peer in rule["from"]
        if "namespaceSelector" in peer
    }
    assert namespaces == {"team-fraud", "team-recsys", "kubeflow"}
    assert not any("ipBlock" in peer for peer in rule["from"])  # no domain: no public path
    assert rule["ports"] == [{"protocol": "TCP", "port": 5000}]
    # Prometheus reaches the metrics sidecar only, not the tracking API
    (scrape,) = find(p, "NetworkPolicy", "mlflow-metrics-ingress", "mlflow")["spec"]["ingress"]
    assert scrape["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    assert scrape["ports"] == [{"protocol": "TCP", "port": 9102}]


def check_exposure(p: dict[str, Any]) -> list[dict[str, Any]]:
    ingresses = []
    for obj in objects(p):
        if obj["kind"] == "Service":
            assert obj["spec"].get("type", "ClusterIP") in ("ClusterIP", "ExternalName"), obj
        if obj["kind"] == "Ingress":
            ingresses.append(obj)
            ns = obj["metadata"]["namespace"]
            backend = obj["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
            mode = obj["metadata"]["annotations"]["mlops.platform/auth"]
            if backend == "oauth2-proxy":
                assert mode == "oidc"
                find(p, "Deployment", "oauth2-proxy", ns)
            else:
                # only MLflow may be reached directly, and only with its basic-auth app
                assert (backend, mode) == ("mlflow", "basic-auth"), obj
                args = find(p, "Deployment", "mlflow", ns)["spec"]["template"]["spec"][
                    "containers"
                ][0]["args"]
                assert args[args.index("--app-name") + 1] == "basic-auth"
    return ingresses


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_namespace_denies_ingress_by_default(env: str) -> None:
    check_isolation(plan(env))


def test_every_namespace_denies_ingress_by_default_with_a_domain(
    oidc_plan: dict[str, Any],
) -> None:
    check_isolation(oidc_plan)
    # the load balancer reaches only the proxies and cert-manager's HTTP-01 solvers
    for ns in ("mlflow", "kubeflow"):
        solver = find(oidc_plan, "NetworkPolicy", "allow-acme-http01-solver", ns)["spec"]
        assert solver["podSelector"] == {
            "matchLabels": {"acme.cert-manager.io/http01-solver": "true"}
        }
        assert solver["ingress"] == [{"ports": [{"protocol": "TCP", "port": 8089}]}]
    ui = find(oidc_plan, "NetworkPolicy", "allow-ui-load-balancer", "kubeflow")["spec"]
    assert ui["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "oauth2-proxy"}}


def check_isolation(p: dict[str, Any]) -> None:
    """Each namespace the platform creates has a policy isolating all its pods for ingress;
    whatever else is allowed names its peers or its ports, never both open."""
    namespaces = {o["metadata"]["name"] for o in objects(p) if o["kind"] == "Namespace"}
    assert {"mlflow", "feast", "kubeflow", "kserve", "monitoring", "cert-manager"} <= namespaces
    for ns in namespaces:
        policies = [
            o["spec"]
            for o in objects(p)
            if o["kind"] == "NetworkPolicy" and o["metadata"].get("namespace") == ns
        ]
        assert any(
            s["podSelector"] == {} and "Ingress" in s["policyTypes"] and not s.get("ingress")
            for s in policies
        ), ns
        for spec in policies:
            for rule in spec.get("ingress", []):
                assert rule.get("from") or rule.get("ports"), (ns, spec)
