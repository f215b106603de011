"""TeamTenancy: one team's namespace on the shared cluster, isolated by default.

* Pod Security Admission ``restricted`` (enforce, audit, warn).
* ResourceQuota from config and a LimitRange, so every container has requests and
  limits even when its author forgot them.
* NetworkPolicies: default deny both ways, then explicit allows — DNS, the MLflow and
  Feast servers, the Kubeflow Pipelines API, AWS APIs over 443 (IRSA's STS call, S3;
  the instance metadata endpoint stays blocked), traffic inside the namespace and
  scrapes from monitoring.
* The team's service account, bound to the team's IRSA role.
* The team's serving account (``model-server``), bound to its read-only role on the
  team's published models, which its InferenceServices run as. It has no Kubernetes
  API rights and no API token mounted: neither KServe's storage initializer nor the
  model server calls the API, and IRSA's web-identity token is a projected volume of its
  own that EKS's pod identity webhook adds whatever ``automountServiceAccountToken`` says.
* RBAC for the team's group and service account, in this namespace only: run
  pipelines (Argo Workflows, which Kubeflow Pipelines drives), manage
  InferenceServices, read pods and logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.base.aws_calls import AwsCall
from infra.base.k8s import (
    MANAGED_BY,
    RESTRICTED_NAMESPACE_LABELS,
    service_account_metadata,
)
from infra.services.tenancy.config import TeamConfig
from mlops_runtime import teams

TEAM_LABEL = teams.LABEL
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
IMDS = "169.254.169.254/32"


@dataclass(frozen=True, kw_only=True)
class Peer:
    """A service the team may reach: namespace and TCP ports."""

    namespace: str
    ports: Sequence[int]


@dataclass(frozen=True, kw_only=True)
class TeamTenancyArgs:
    """Inputs of TeamTenancy.

    Attributes:
        config: The team's entry of the stack's ``teams`` (name, quota, service account).
        role_arn: The team's IRSA role.
        serving_role_arn: The team's serving role (reads its published models only).
        aws_calls: The AWS calls its workloads make as the team's role.
        serving_aws_calls: The AWS calls its model servers make as the serving role
            (KServe's storage initializer downloading a model).
        peers: Services the team may reach (MLflow, Feast, KFP).
        monitoring_namespace: Namespace allowed to scrape the team's pods.
        group: Kubernetes group of the team's people (EKS access entries); ``None``:
            only the service account is bound.
    """

    config: TeamConfig
    role_arn: pulumi.Input[str]
    serving_role_arn: pulumi.Input[str]
    aws_calls: Sequence[AwsCall] = ()
    serving_aws_calls: Sequence[AwsCall] = ()
    peers: Sequence[Peer] = ()
    monitoring_namespace: str | None = "monitoring"
    group: str | None = None
    default_limits: dict[str, str] = field(
        default_factory=lambda: {"cpu": "500m", "memory": "512Mi"}
    )
    default_requests: dict[str, str] = field(
        default_factory=lambda: {"cpu": "100m", "memory": "128Mi"}
    )

    @property
    def team(self) -> str:
        return self.config.name

    @property
    def namespace(self) -> str:
        return self.config.namespace

    @property
    def service_account(self) -> str:
        return self.config.service_account

    @property
    def serving_account(self) -> str:
        return self.config.serving_account


def _ns_selector(namespace: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}}


class TeamTenancy(pulumi.ComponentResource):
    """A team's namespace, quota, network isolation, identity and RBAC.

    Outputs:
        namespace: The team namespace.
        service_account: The team's service account.
        serving_account: The account its model servers run as.
    """

    def __init__(
        self, name: str, args: TeamTenancyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:kubernetes:TeamTenancy", name, None, opts)
        ns = args.namespace
        team_labels = {**MANAGED_BY, TEAM_LABEL: args.team}
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": ns, "labels": {**team_labels, **RESTRICTED_NAMESPACE_LABELS}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])

        def meta(obj: str) -> Any:  # Any: see k8s_common.service_account_metadata
            return {"name": obj, "namespace": ns, "labels": team_labels}

        hard: Any = {
            "requests.cpu": args.config.quota.cpu,
            "requests.memory": args.config.quota.memory,
            "limits.cpu": args.config.quota.cpu,
            "limits.memory": args.config.quota.memory,
            "requests.nvidia.com/gpu": str(args.config.quota.gpu),
            "services.loadbalancers": "0",
            "services.nodeports": "0",
        }
        k8s.core.v1.ResourceQuota(
            f"{name}-quota", metadata=meta("team-quota"), spec={"hard": hard}, opts=in_ns
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta("team-defaults"),
            spec={
                "limits": [
                    {
                        "type": "Container",
                        "default": dict(args.default_limits),
                        "defaultRequest": dict(args.default_requests),
                        "max": {"cpu": args.config.quota.cpu, "memory": args.config.quota.memory},
                    }
                ]
            },
            opts=in_ns,
        )

        policies: list[tuple[str, Any]] = [
            ("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
            (
                "allow-dns",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    **_ns_selector("kube-system"),
                                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                                }
                            ],
                            "ports": [
                                {"protocol": "UDP", "port": 53},
                                {"protocol": "TCP", "port": 53},
                            ],
                        }
                    ],
                },
            ),
            (
                "allow-same-namespace",
                {
                    "podSelector": {},
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [{"from": [{"podSelector": {}}]}],
                    "egress": [{"to": [{"podSelector": {}}]}],
                },
            ),
            (
                "allow-aws-apis",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [IMDS]}}],
                            "ports": [{"protocol": "TCP", "port": 443}],
                        }
                    ],
                },
            ),
        ]
        for peer in args.peers:
            policies.append(
                (
                    f"allow-{peer.namespace}",
                    {
                        "podSelector": {},
                        "policyTypes": ["Egress"],
                        "egress": [
                            {
                                "to": [_ns_selector(peer.namespace)],
                                "ports": [{"protocol": "TCP", "port": p} for p in peer.ports],
                            }
                        ],
                    },
                )
            )
        if args.monitoring_namespace:
            policies.append(
                (
                    "allow-monitoring-scrape",
                    {
                        "podSelector": {},
                        "policyTypes": ["Ingress"],
                        "ingress": [{"from": [_ns_selector(args.monitoring_namespace)]}],
                    },
                )
            )
        for policy_name, spec in policies:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy_name}", metadata=meta(policy_name), spec=spec, opts=in_ns
            )

        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={
                **service_account_metadata(args.service_account, ns, args.role_arn, args.aws_calls),
                "labels": team_labels,
            },
            opts=in_ns,
        )
        self.serving_account = k8s.core.v1.ServiceAccount(
            f"{name}-serving-sa",
            metadata={
                **service_account_metadata(
                    args.serving_account, ns, args.serving_role_arn, args.serving_aws_calls
                ),
                "labels": {**team_labels, teams.WORKLOAD_LABEL: teams.SERVING},
            },
            # no RoleBinding names it, and its pods need no API token (see the module doc)
            automount_service_account_token=False,
            opts=in_ns,
        )
        role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata=meta("team-member"),
            rules=[
                {
                    "apiGroups": ["serving.kserve.io"],
                    "resources": ["inferenceservices"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                },
                {
                    "apiGroups": ["argoproj.io"],
                    "resources": ["workflows", "workflowtaskresults"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                },
                {
                    "apiGroups": [""],
                    "resources": ["pods", "pods/log", "services", "events", "configmaps"],
                    "verbs": ["get", "list", "watch"],
                },
            ],
            opts=in_ns,
        )
        subjects: Any = [{"kind": "ServiceAccount", "name": args.service_account, "namespace": ns}]
        if args.group:
            subjects.append(
                {"kind": "Group", "name": args.group, "apiGroup": "rbac.authorization.k8s.io"}
            )
        k8s.rbac.v1.RoleBinding(
            f"{name}-binding",
            metadata=meta("team-member"),
            role_ref={
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "team-member",
            },
            subjects=subjects,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role, self.service_account]),
        )
        self.namespace_name = ns
        self.service_account_name = args.service_account
        self.serving_account_name = args.serving_account
        self.register_outputs(
            {
                "namespace": ns,
                "service_account": args.service_account,
                "serving_account": args.serving_account,
            }
        )
