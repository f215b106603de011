"""Ingress isolation of a namespace the platform creates: deny by default, then allow
exactly what its pods are known to need.

Every namespace gets ``default-deny-ingress`` (all pods, Ingress, no rule) and one
``allow-<name>`` policy per `Allow`. NetworkPolicies are additive, so a pod accepts what
any of them allows. Traffic from the pod's own node (kubelet probes) is always allowed
by Kubernetes; ``hostNetwork`` pods (node-exporter) are outside NetworkPolicy.

Sources that are not pods cannot be named by a selector: the EKS API server calling an
admission webhook, a load balancer in IP target mode. Those allows name the port only
(any source), so the rest of the namespace stays closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.base.k8s import MANAGED_BY

DENY = "default-deny-ingress"
# the pods cert-manager starts to answer ACME HTTP-01 challenges, in the Ingress's namespace
ACME_SOLVER = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089


def namespace_peer(name: str) -> dict[str, Any]:
    """Every pod of namespace ``name``."""
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


SAME_NAMESPACE: dict[str, Any] = {"podSelector": {}}


@dataclass(frozen=True)
class Allow:
    """Who may reach which of the namespace's pods, on which TCP ports.

    Attributes:
        name: The policy is ``allow-<name>``.
        peers: NetworkPolicy peers; empty: any source (then ``ports`` is required).
        ports: TCP ports; empty: every port (then ``peers`` is required).
        pods: ``matchLabels`` of the pods it opens; None: every pod of the namespace.
    """

    name: str
    peers: Sequence[Mapping[str, Any]] = ()
    ports: Sequence[int] = ()
    pods: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if not self.peers and not self.ports:
            raise ValueError(f"allow-{self.name} would admit everything: name peers or ports")


@dataclass(frozen=True)
class Isolation:
    """What a namespace admits (see module docstring)."""

    allows: Sequence[Allow] = field(default_factory=tuple)

    def specs(self) -> list[tuple[str, dict[str, Any]]]:
        """(policy name, NetworkPolicy spec) of the namespace's ingress policies."""
        out: list[tuple[str, dict[str, Any]]] = [
            (DENY, {"podSelector": {}, "policyTypes": ["Ingress"]})
        ]
        for allow in self.allows:
            rule: dict[str, Any] = {}
            if allow.peers:
                rule["from"] = [dict(p) for p in allow.peers]
            if allow.ports:
                rule["ports"] = [{"protocol": "TCP", "port": p} for p in allow.ports]
            selector = {"matchLabels": dict(allow.pods)} if allow.pods else {}
            out.append(
                (
                    f"allow-{allow.name}",
                    {"podSelector": selector, "policyTypes": ["Ingress"], "ingress": [rule]},
                )
            )
        return out


def scrape_from(monitoring_namespace: str | None) -> list[Allow]:
    """Prometheus (in the monitoring namespace) scrapes every pod's metrics port."""
    if not monitoring_namespace:
        return []
    return [Allow("monitoring-scrape", peers=[namespace_peer(monitoring_namespace)])]


def acme_solver(domain: str | None) -> list[Allow]:
    """With a public domain, the load balancer reaches cert-manager's HTTP-01 solver pods."""
    if not domain:
        return []
    return [Allow("acme-http01-solver", ports=[ACME_SOLVER_PORT], pods=ACME_SOLVER)]


def isolate(
    name: str, namespace: str, isolation: Isolation, opts: pulumi.ResourceOptions
) -> list[k8s.networking.v1.NetworkPolicy]:
    """The namespace's ingress NetworkPolicies, as Pulumi resources named ``<name>-<policy>``."""
    return [
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{policy}",
            metadata={"name": policy, "namespace": namespace, "labels": dict(MANAGED_BY)},
            spec=spec,
            opts=opts,
        )
        for policy, spec in isolation.specs()
    ]
