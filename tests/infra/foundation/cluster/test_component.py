"""Cluster built alone: EKS with its node groups and add-ons, or a brought-in cluster."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from alone import ACCOUNT, REGION, Built, build

from infra.foundation.cluster.component import Cluster, ClusterArgs
from infra.foundation.cluster.config import ClusterConfig
from infra.foundation.network.component import Network, NetworkArgs
from infra.foundation.network.config import NetworkConfig

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
