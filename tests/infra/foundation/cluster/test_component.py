"""Cluster built alone: EKS with its node groups and add-ons, or a brought-in cluster."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from alone import ACCOUNT, REGION, Built, build

from infra.base import versions
from infra.foundation.cluster.addons import (
    LB_CONTROLLER,
    ClusterControllersArgs,
    autoscaler_policy,
    lb_controller_policy,
)
from infra.foundation.cluster.component import Cluster, ClusterArgs
from infra.foundation.cluster.config import ClusterConfig
from infra.foundation.network.component import Network, NetworkArgs
from infra.foundation.network.config import NetworkConfig
from policies.rules.iam_eval import Request, decide

TYPE = "mlops:cluster:Cluster"
CI_ROLE = f"arn:aws:iam::{ACCOUNT}:role/t-github-actions"


def created(config: ClusterConfig) -> Built:
    def make(opts: pulumi.ResourceOptions) -> None:
        net = Network(
            "network",
            NetworkArgs(
                config=NetworkConfig(),
                name="t",
                zones=["us-east-1a", "us-east-1b"],
                account_id=ACCOUNT,
                region=REGION,
                cluster_name="t",
            ),
            opts=opts,
        )
        Cluster(
            "cluster",
            ClusterArgs(
                config=config,
                name="t",
                account_id=ACCOUNT,
                region=REGION,
                subnet_ids=net.private_subnet_ids,
                admin_role_arns=[CI_ROLE],
            ),
            opts=opts,
        )

    def held(b: Any) -> dict[str, Any]:
        eks = b.client("eks")
        return {
            "cluster": eks.describe_cluster(name="t")["cluster"],
            "nodegroups": {
                n: eks.describe_nodegroup(clusterName="t", nodegroupName=n)["nodegroup"]
                for n in eks.list_nodegroups(clusterName="t")["nodegroups"]
            },
        }

    return build(make, inspect=held)


def test_a_created_cluster_is_private_encrypted_logged_and_administered_by_ci() -> None:
    built = created(ClusterConfig(log_retention_days=30))
    built.assert_parented(TYPE, "mlops:network:Network")
    cluster = built.aws["cluster"]
    assert cluster["resourcesVpcConfig"]["endpointPublicAccess"] is False
    assert cluster["encryptionConfig"][0]["resources"] == ["secrets"]
    logs = built.inputs("aws:cloudwatch/logGroup:LogGroup")
    assert (logs["name"], logs["retentionInDays"]) == ("/aws/eks/t/cluster", 30)
    entry = built.inputs("aws:eks/accessEntry:AccessEntry")
    assert entry["principalArn"] == CI_ROLE
    addons = {r["inputs"]["addonName"] for r in built.of_type("aws:eks/addon:Addon")}
    assert addons == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "metrics-server"}


def test_network_policies_are_enforced_by_the_vpc_cni() -> None:
    # issue 18 defect 3: without the agent, NetworkPolicies are accepted and ignored
    built = created(ClusterConfig())
    cni = next(
        r["inputs"]
        for r in built.of_type("aws:eks/addon:Addon")
        if r["inputs"]["addonName"] == "vpc-cni"
    )
    # the add-on's schema takes the string "true", not a JSON boolean
    assert json.loads(cni["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_a_default_encrypted_gp3_storage_class_comes_from_the_ebs_csi_driver() -> None:
    # issue 18 defect 4: EKS >= 1.30 has no default StorageClass; Prometheus stayed Pending
    built = created(ClusterConfig())
    sc = built.inputs("kubernetes:storage.k8s.io/v1:StorageClass")
    assert sc["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert sc["provisioner"] == "ebs.csi.aws.com"
    assert sc["parameters"] == {"type": "gp3", "encrypted": "true"}
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    ebs = built.one("aws:eks/addon:Addon", "cluster-aws-ebs-csi-driver")
    assert ebs["urn"] in built.one("kubernetes:storage.k8s.io/v1:StorageClass")["dependencies"]


def test_node_groups_follow_the_section_and_nodes_cannot_borrow_the_node_role() -> None:
    config = ClusterConfig(
        node_groups={
            "system": {
                "instance_types": ["m6i.large"],
                "min_size": 2,
                "desired_size": 2,
                "max_size": 3,
            },
            "workloads": {"capacity_type": "SPOT", "min_size": 0, "desired_size": 1, "max_size": 5},
            "gpu": {
                "enabled": True,
                "instance_types": ["g5.xlarge"],
                "min_size": 0,
                "desired_size": 0,
                "max_size": 1,
            },
        }
    )
    built = created(config)
    groups = built.aws["nodegroups"]
    assert sorted(groups) == ["gpu", "system", "workloads"]
    assert groups["system"]["scalingConfig"] == {"minSize": 2, "maxSize": 3, "desiredSize": 2}
    assert groups["workloads"]["capacityType"] == "SPOT"
    gpu = built.inputs("aws:eks/nodeGroup:NodeGroup", "cluster-gpu")
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA" and gpu["taints"][0]["key"] == "nvidia.com/gpu"
    for template in built.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        meta = template["inputs"]["metadataOptions"]
        assert (meta["httpTokens"], meta["httpPutResponseHopLimit"]) == ("required", 1)


def test_a_public_endpoint_admits_only_the_configured_cidrs() -> None:
    built = created(
        ClusterConfig(endpoint_public_access=True, public_access_cidrs=["203.0.113.0/24"])
    )
    vpc = built.aws["cluster"]["resourcesVpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_an_existing_cluster_creates_nothing_in_aws() -> None:
    config = ClusterConfig(
        mode="existing",
        kubeconfig=json.dumps({"apiVersion": "v1", "kind": "Config"}),
        oidc_provider_arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/ABC",
        vpc_id="vpc-0123456789abcdef0",
        private_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        node_security_group_id="sg-0123456789abcdef0",
    )
    seen: dict[str, Any] = {}

    def make(opts: pulumi.ResourceOptions) -> None:
        cluster = Cluster(
            "cluster",
            ClusterArgs(config=config, name="t", account_id=ACCOUNT, region=REGION),
            opts=opts,
        )
        seen["node_role"] = cluster.node_role_arn

    built = build(make)
    custom = [r["type"] for r in built.resources if r["custom"]]
    assert all(t.startswith("pulumi:providers:") for t in custom), custom
    assert seen["node_role"] is None


def test_a_created_cluster_needs_subnets() -> None:
    with pytest.raises(ValueError, match="needs subnet_ids"):
        ClusterArgs(config=ClusterConfig(), name="t", account_id=ACCOUNT, region=REGION)


# ------------------------------------------------------------ controllers (addons.py)

RELEASE = "kubernetes:helm.sh/v3:Release"
ARGS = ClusterControllersArgs(
    cluster_name="t",
    kubernetes_version="1.35",
    account_id=ACCOUNT,
    region=REGION,
    vpc_id="vpc-0123456789abcdef0",
    oidc_provider_arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/X",
    oidc_issuer=f"oidc.eks.{REGION}.amazonaws.com/id/X",
)


def releases(config: ClusterConfig) -> dict[str, dict[str, Any]]:
    built = created(config)
    return {r["inputs"]["name"]: r for r in built.of_type(RELEASE)}


def test_the_autoscaler_is_the_release_of_the_clusters_minor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # it supports only its own minor: the tag comes from the version table's row for it
    monkeypatch.setitem(versions.table()["cluster_autoscaler"], "1.35", "v1.35.9")
    image = releases(ClusterConfig(version="1.35"))["cluster-autoscaler"]["inputs"]["values"][
        "image"
    ]
    assert image == {
        "repository": "registry.k8s.io/autoscaling/cluster-autoscaler",
        "tag": "v1.35.9",
    }


def test_controllers_are_pinned_releases_and_the_device_plugin_follows_gpu_nodes() -> None:
    # issue 18 defect 6: groups at desired 0 never grew, alb Ingresses did nothing
    without_gpu = releases(ClusterConfig())
    assert set(without_gpu) == {"aws-load-balancer-controller", "cluster-autoscaler"}
    gpu = ClusterConfig(
        node_groups={
            "gpu": {
                "enabled": True,
                "instance_types": ["g5.xlarge"],
                "min_size": 0,
                "desired_size": 0,
                "max_size": 2,
            }
        }
    )
    found = releases(gpu)
    assert set(found) == {
        "aws-load-balancer-controller",
        "cluster-autoscaler",
        "nvidia-device-plugin",
    }
    for r in found.values():
        inputs = r["inputs"]
        assert inputs["version"].count(".") == 2 and inputs["namespace"] == "kube-system"
        assert inputs["values"]["image"]["tag"].startswith("v")
    plugin = found["nvidia-device-plugin"]["inputs"]["values"]
    terms = plugin["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "node-group", "operator": "In", "values": ["gpu"]}]}
    ]


def test_the_lb_controller_gets_region_and_vpc_because_pods_cannot_reach_imds() -> None:
    built = created(ClusterConfig())
    lb = next(
        r for r in built.of_type(RELEASE) if r["inputs"]["name"] == "aws-load-balancer-controller"
    )["inputs"]["values"]
    assert lb["region"] == REGION and lb["clusterName"] == "t"
    assert isinstance(lb["vpcId"], str) and lb["vpcId"].startswith("vpc-")
    role = f"arn:aws:iam::{ACCOUNT}:role/t-lb-controller"
    assert lb["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": role}
    trust = json.loads(
        next(
            r
            for r in built.of_type("aws:iam/role:Role")
            if r["inputs"]["name"] == "t-lb-controller"
        )["inputs"]["assumeRolePolicy"]
    )
    assert "system:serviceaccount:kube-system:aws-load-balancer-controller" in (
        trust["Statement"][0]["Condition"]["StringEquals"].values()
    )
    vpc = built.one("aws:ec2/vpc:Vpc")["inputs"]["tags"]
    assert vpc["kubernetes.io/cluster/t"] == "shared"


def allowed(policy: str, action: str, resource: str, **context: Any) -> bool:
    return decide(Request(action, resource, context), [policy]).allowed


LB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/k8s-web/1"
SG = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1"


@pytest.mark.parametrize(
    ("action", "resource", "context", "expected"),
    [
        (
            "elasticloadbalancing:CreateLoadBalancer",
            LB,
            {"aws:RequestTag/elbv2.k8s.aws/cluster": "t"},
            True,
        ),
        # another cluster's tag, or none: refused (upstream only checks the tag exists)
        (
            "elasticloadbalancing:CreateLoadBalancer",
            LB,
            {"aws:RequestTag/elbv2.k8s.aws/cluster": "other"},
            False,
        ),
        (
            "elasticloadbalancing:DeleteLoadBalancer",
            LB,
            {"aws:ResourceTag/elbv2.k8s.aws/cluster": "t"},
            True,
        ),
        ("elasticloadbalancing:DeleteLoadBalancer", LB, {}, False),
        ("ec2:DeleteSecurityGroup", SG, {"aws:ResourceTag/elbv2.k8s.aws/cluster": "other"}, False),
        # the nodes' group (tagged by EKS) admits the ALBs
        (
            "ec2:AuthorizeSecurityGroupIngress",
            SG,
            {"aws:ResourceTag/kubernetes.io/cluster/t": "owned"},
            True,
        ),
        ("ec2:AuthorizeSecurityGroupIngress", SG, {}, False),
        # another region or account is out of reach
        (
            "elasticloadbalancing:DeleteLoadBalancer",
            LB.replace(REGION, "eu-west-1"),
            {"aws:ResourceTag/elbv2.k8s.aws/cluster": "t"},
            False,
        ),
        ("wafv2:AssociateWebACL", "*", {}, False),
    ],
)
def test_the_lb_controller_acts_only_on_this_clusters_resources(
    action: str, resource: str, context: dict[str, Any], expected: bool
) -> None:
    assert allowed(lb_controller_policy(ARGS), action, resource, **context) is expected


def test_the_autoscaler_resizes_only_this_clusters_groups() -> None:
    policy = autoscaler_policy(ARGS)
    group = (
        f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:uuid:"
        "autoScalingGroupName/eks-gpu-1"
    )
    assert allowed(
        policy,
        "autoscaling:SetDesiredCapacity",
        group,
        **{"aws:ResourceTag/k8s.io/cluster-autoscaler/t": "owned"},
    )
    assert not allowed(policy, "autoscaling:SetDesiredCapacity", group)
    assert allowed(
        policy, "eks:DescribeNodegroup", f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/t/gpu/uuid"
    )
    assert not allowed(
        policy, "eks:DescribeNodegroup", f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/other/gpu/uuid"
    )


def test_what_the_platform_writes_waits_for_the_load_balancer_controller() -> None:
    # its webhooks refuse every new Service and Ingress until its pods answer: the provider
    # the services write with waits for it; the controllers have a provider of their own
    built = created(ClusterConfig())
    lb = next(r for r in built.of_type(RELEASE) if r["name"].endswith(LB_CONTROLLER))
    workloads = built.one("pulumi:providers:kubernetes", "cluster-k8s")
    assert lb["urn"] in workloads["dependencies"]
    providers = built.plan["_providers"]
    assert providers[lb["urn"]].split("::")[3] == "cluster-k8s-controllers"
    for r in built.of_type(RELEASE):
        if r is not lb:
            assert lb["urn"] in r["dependencies"], r["name"]  # their charts run Services
