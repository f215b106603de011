"""EKS: clusters and node groups."""

from __future__ import annotations

from typing import Any

from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    handles,
)
from mlops.engine.aws_backend.ec2 import subnet_zones


@handles("aws:eks/cluster:Cluster")
def _eks_cluster(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    vpc = inputs.get("vpcConfig") or {}
    subnets = vpc.get("subnetIds") or []
    zones, vpcs = subnet_zones(b, subnets)
    if len(zones) < 2:
        raise AwsRejected(
            "InvalidParameterException: Subnets specified must be in at least two different AZs"
        )
    if not vpc.get("endpointPrivateAccess", False) and not vpc.get("endpointPublicAccess", True):
        raise AwsRejected("InvalidParameterException: the endpoint must be public or private")
    role = inputs["roleArn"].rsplit("/", 1)[-1]
    b.client("iam").get_role(RoleName=role)  # NoSuchEntity as in AWS
    encryption = []
    for config in [inputs["encryptionConfig"]] if inputs.get("encryptionConfig") else []:
        key = (config.get("provider") or {}).get("keyArn")
        b.client("kms").describe_key(KeyId=key)
        encryption.append({"resources": config.get("resources"), "provider": {"keyArn": key}})
    kwargs: dict[str, Any] = {
        "name": state["name"],
        "roleArn": inputs["roleArn"],
        "resourcesVpcConfig": {
            "subnetIds": subnets,
            "endpointPublicAccess": bool(vpc.get("endpointPublicAccess", True)),
            "endpointPrivateAccess": bool(vpc.get("endpointPrivateAccess", False)),
            **(
                {"publicAccessCidrs": vpc["publicAccessCidrs"]}
                if vpc.get("publicAccessCidrs")
                else {}
            ),
        },
        "logging": {
            "clusterLogging": [
                {"types": inputs.get("enabledClusterLogTypes") or [], "enabled": True}
            ]
        },
    }
    if inputs.get("version"):
        kwargs["version"] = inputs["version"]
    if encryption:
        kwargs["encryptionConfig"] = encryption
    if inputs.get("tags"):
        kwargs["tags"] = {k: str(v) for k, v in inputs["tags"].items()}
    b.client("eks").create_cluster(**kwargs)
    # EKS creates the cluster security group (nodes and pods use it); moto does not.
    sg = b.client("ec2").create_security_group(
        GroupName=f"eks-cluster-sg-{state['name']}",
        Description="EKS created security group applied to ENI that is attached to EKS "
        "Control Plane master nodes, as well as any managed workloads.",
        VpcId=next(iter(vpcs)),
    )
    b.alias(state["vpcConfig"]["clusterSecurityGroupId"], sg["GroupId"])


@handles("aws:eks/nodeGroup:NodeGroup")
def _node_group(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    scaling = inputs.get("scalingConfig") or {}
    low, want, high = (int(scaling.get(k, 0)) for k in ("minSize", "desiredSize", "maxSize"))
    if high < 1 or not low <= want <= high:
        raise AwsRejected(
            f"InvalidParameterException: scaling {low}/{want}/{high} needs "
            "min <= desired <= max and max >= 1"
        )
    capacity = inputs.get("capacityType", "ON_DEMAND")
    if capacity not in ("ON_DEMAND", "SPOT", "CAPACITY_BLOCK"):
        raise AwsRejected(f"InvalidParameterException: capacity type {capacity!r}")
    b.client("iam").get_role(RoleName=inputs["nodeRoleArn"].rsplit("/", 1)[-1])
    kwargs: dict[str, Any] = {
        "clusterName": inputs["clusterName"],
        "nodegroupName": state["nodeGroupName"],
        "scalingConfig": {"minSize": low, "desiredSize": want, "maxSize": high},
        "subnets": inputs.get("subnetIds") or [],
        "nodeRole": inputs["nodeRoleArn"],
        "capacityType": capacity,
    }
    for ours, api in (
        ("instanceTypes", "instanceTypes"),
        ("amiType", "amiType"),
        ("labels", "labels"),
        ("diskSize", "diskSize"),
    ):
        if inputs.get(ours):
            kwargs[api] = inputs[ours]
    if inputs.get("taints"):
        kwargs["taints"] = [
            {"key": t["key"], "value": t.get("value", ""), "effect": t["effect"]}
            for t in inputs["taints"]
        ]
    if inputs.get("launchTemplate"):
        lt = inputs["launchTemplate"]
        kwargs["launchTemplate"] = {
            k: str(lt[k]) for k in ("id", "name", "version") if lt.get(k) is not None
        }
    if inputs.get("tags"):
        kwargs["tags"] = {k: str(v) for k, v in inputs["tags"].items()}
    b.client("eks").create_nodegroup(**kwargs)
