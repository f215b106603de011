"""cluster-capabilities: what an object needs from the cluster is provided in the plan."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import messages, res, secret

RULE = "cluster-capabilities"
ADDON = "aws:eks/addon:Addon"
RELEASE = "kubernetes:helm.sh/v3:Release"
NETPOL_ON = json.dumps({"enableNetworkPolicy": "true"})


def addon(name: str, **extra: Any) -> dict[str, Any]:
    return res(ADDON, f"c-{name}", {"clusterName": "c", "addonName": name, **extra})


def chart(chart: str, values: dict[str, Any] | None = None, name: str = "") -> dict[str, Any]:
    return res(
        RELEASE,
        name or chart,
        {
            "chart": chart,
            "version": "1.0.0",
            "repositoryOpts": {"repo": "https://x.example"},
            "values": values or {},
        },
    )


def storage_class(
    name: str = "gp3", default: bool = True, provisioner: str = "ebs.csi.aws.com"
) -> dict[str, Any]:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return res(
        "kubernetes:storage.k8s.io/v1:StorageClass",
        f"sc-{name}",
        {"metadata": {"name": name, "annotations": annotations}, "provisioner": provisioner},
    )


def hpa(metrics: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 3,
    }
    if metrics is not None:
        spec["metrics"] = metrics
    return res(
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        "web-hpa",
        {"metadata": {"name": "web", "namespace": "apps"}, "spec": spec},
    )


def pvc(klass: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "10Gi"}},
    }
    if klass is not None:
        spec["storageClassName"] = klass
    return res(
        "kubernetes:core/v1:PersistentVolumeClaim",
        "data",
        {"metadata": {"name": "data", "namespace": "apps"}, "spec": spec},
    )


def ingress(klass: str = "alb") -> dict[str, Any]:
    return res(
        "kubernetes:networking.k8s.io/v1:Ingress",
        "web-ing",
        {
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"ingressClassName": klass, "rules": []},
        },
    )


def netpol() -> dict[str, Any]:
    return res(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "deny",
        {
            "metadata": {"name": "deny", "namespace": "apps"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
    )


def quota(gpu: Any) -> dict[str, Any]:
    return res(
        "kubernetes:core/v1:ResourceQuota",
        "quota",
        {
            "metadata": {"name": "q", "namespace": "apps"},
            "spec": {"hard": {"requests.nvidia.com/gpu": gpu}},
        },
    )


def node_group(desired: int, most: int, ami: str = "AL2023_x86_64_STANDARD") -> dict[str, Any]:
    return res(
        "aws:eks/nodeGroup:NodeGroup",
        f"ng-{ami}",
        {
            "clusterName": "c",
            "amiType": ami,
            "scalingConfig": {"minSize": 0, "desiredSize": desired, "maxSize": most},
        },
    )


def everything() -> list[dict[str, Any]]:
    """One consumer of each class and what provides it: passes."""
    return [
        hpa(),
        addon("metrics-server"),
        pvc(),
        storage_class(),
        addon("aws-ebs-csi-driver"),
        ingress(),
        chart("aws-load-balancer-controller"),
        quota("2"),
        node_group(0, 2, "AL2023_x86_64_NVIDIA"),
        chart("nvidia-device-plugin"),
        netpol(),
        addon("vpc-cni", configurationValues=NETPOL_ON),
        chart("cluster-autoscaler"),
    ]


def test_every_need_met_by_its_provider_passes() -> None:
    assert messages(RULE, everything()) == []


def without(*names: str) -> list[dict[str, Any]]:
    return [r for r in everything() if r["name"] not in names]


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        (without("c-metrics-server"), ["HorizontalPodAutoscaler web needs the Metrics API"]),
        (
            without("sc-gp3"),
            ["PersistentVolumeClaim data names no StorageClass and the plan has no default one"],
        ),
        (
            without("c-aws-ebs-csi-driver"),
            ["whose CSI driver ebs.csi.aws.com nothing in the plan installs"],
        ),
        (
            without("aws-load-balancer-controller"),
            ["Ingress web spec.ingressClassName needs the AWS Load Balancer Controller"],
        ),
        (
            without("nvidia-device-plugin"),
            [
                "ResourceQuota q spec.hard.requests.nvidia.com/gpu needs an NVIDIA device plugin",
                "NodeGroup ng-AL2023_x86_64_NVIDIA (AMI AL2023_x86_64_NVIDIA) needs an NVIDIA",
            ],
        ),
        (without("c-vpc-cni"), ["NetworkPolicy deny needs NetworkPolicy enforcement"]),
        (
            without("cluster-autoscaler"),
            ["NodeGroup ng-AL2023_x86_64_NVIDIA (desired 0 < max 2) needs a node autoscaler"],
        ),
    ],
)
def test_a_need_without_its_provider_fails(resources: Any, expected: list[str]) -> None:
    found = messages(RULE, resources)
    for text in expected:
        assert any(text in m for m in found), (text, found)


def test_ingress_annotation_class_counts_once_per_message() -> None:
    ing = ingress()
    del ing["inputs"]["spec"]["ingressClassName"]
    ing["inputs"]["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "alb"}
    assert messages(RULE, [ing]) == [
        "Ingress web needs the AWS Load Balancer Controller, which nothing in the plan "
        "installs: add its chart (aws-load-balancer-controller)."
    ]


def test_vpc_cni_without_the_flag_or_with_a_boolean_does_not_enforce() -> None:
    for config in (
        None,
        json.dumps({"enableNetworkPolicy": True}),
        json.dumps({"enableNetworkpolicy": "true"}),
    ):
        cni = addon("vpc-cni", **({"configurationValues": config} if config else {}))
        assert any("NetworkPolicy enforcement" in m for m in messages(RULE, [netpol(), cni]))
    # a secret is read in plaintext, as CrossGuard hands it; a value the plan cannot
    # decrypt is not
    assert messages(RULE, [netpol(), addon("vpc-cni", configurationValues=secret(NETPOL_ON))]) == []
    unread = addon("vpc-cni", configurationValues="[secret]")
    assert any("Could not see" in m for m in messages(RULE, [netpol(), unread]))


def test_providers_are_recognised_however_they_come() -> None:
    # a Helm chart, an APIService, an image: each provides the Metrics API
    assert messages(RULE, [hpa(), chart("metrics-server")]) == []
    api = res(
        "kubernetes:apiregistration.k8s.io/v1:APIService",
        "metrics",
        {"metadata": {"name": "v1beta1.metrics.k8s.io"}, "spec": {}},
    )
    assert messages(RULE, [hpa(), api]) == []
    deploy = res(
        "kubernetes:apps/v1:Deployment",
        "ms",
        {
            "metadata": {"name": "metrics-server", "namespace": "kube-system"},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "m",
                                "image": "registry.k8s.io/metrics-server/metrics-server:v0.8.0",
                            }
                        ]
                    }
                }
            },
        },
    )
    assert messages(RULE, [hpa(), deploy]) == []
    # Calico enforces NetworkPolicies; Karpenter does not resize node groups
    assert messages(RULE, [netpol(), chart("tigera-operator")]) == []
    assert messages(RULE, [node_group(1, 3), chart("karpenter")]) != []
    # an OCI chart reference
    assert (
        messages(
            RULE, [node_group(1, 3), chart("oci://registry.example/charts/cluster-autoscaler")]
        )
        == []
    )


def test_hpa_on_external_metrics_only_does_not_need_metrics_server() -> None:
    external = [
        {
            "type": "External",
            "external": {"metric": {"name": "q"}, "target": {"type": "Value", "value": "1"}},
        }
    ]
    assert messages(RULE, [hpa(external)]) == []
    assert messages(RULE, [hpa([{"type": "Resource", "resource": {"name": "cpu"}}])]) != []


def test_claims_name_a_class_the_plan_creates_or_bind_statically() -> None:
    assert (
        messages(
            RULE,
            [
                pvc(""),
            ],
        )
        == []
    )  # static binding: no class
    assert "asks for StorageClass 'fast'" in messages(RULE, [pvc("fast"), storage_class()])[0]
    efs = [pvc("efs"), storage_class("efs", False, "efs.csi.aws.com")]
    assert "efs.csi.aws.com" in messages(RULE, efs)[0]
    assert messages(RULE, [*efs, addon("aws-efs-csi-driver")]) == []
    # the in-tree EBS provisioner is served by the CSI driver (migration)
    intree = [pvc(), storage_class(provisioner="kubernetes.io/aws-ebs")]
    assert messages(RULE, intree) != []
    assert messages(RULE, [*intree, addon("aws-ebs-csi-driver")]) == []


def test_charts_claims_hpas_gpus_and_ingresses_are_read_from_their_values() -> None:
    kps = chart(
        "kube-prometheus-stack",
        {
            "prometheus": {
                "prometheusSpec": {
                    "storageSpec": {
                        "volumeClaimTemplate": {
                            "spec": {"resources": {"requests": {"storage": "50Gi"}}}
                        }
                    }
                }
            }
        },
    )
    assert "names no StorageClass" in messages(RULE, [kps])[0]
    assert messages(RULE, [kps, storage_class(), addon("aws-ebs-csi-driver")]) == []
    app = chart(
        "app",
        {
            "autoscaling": {"enabled": True},
            "resources": {"limits": {"nvidia.com/gpu": 1}},
            "ingress": {"enabled": True, "className": "alb"},
        },
    )
    found = messages(RULE, [app])
    assert len(found) == 3, found
    hidden = chart("app", {})
    hidden["inputs"]["values"] = "[secret]"
    assert "Could not see" in messages(RULE, [hidden])[0]


def test_statefulset_claim_templates_and_workload_gpu_requests() -> None:
    sts = res(
        "kubernetes:apps/v1:StatefulSet",
        "db",
        {
            "metadata": {"name": "db", "namespace": "apps"},
            "spec": {
                "volumeClaimTemplates": [{"metadata": {"name": "d"}, "spec": {}}],
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "c",
                                "image": "x:1.0",
                                "resources": {"limits": {"nvidia.com/gpu": "1"}},
                            }
                        ]
                    }
                },
            },
        },
    )
    found = messages(RULE, [sts])
    assert any("spec.volumeClaimTemplates[0]" in m for m in found)
    assert any("needs an NVIDIA device plugin" in m for m in found)


def test_zero_gpus_and_groups_at_max_need_nothing() -> None:
    assert messages(RULE, [quota("0"), node_group(2, 2)]) == []


def test_two_clusters_are_refused() -> None:
    clusters = [res("aws:eks/cluster:Cluster", n, {"name": n}) for n in ("a", "b")]
    assert "more than one EKS cluster" in messages(RULE, [*everything(), *clusters])[0]
