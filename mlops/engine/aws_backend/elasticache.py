"""ElastiCache: subnet groups and replication groups."""

from __future__ import annotations

import re
from typing import Any

from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    handles,
    tags,
)

_TOKEN = re.compile(r"^[A-Za-z0-9!&#$^<>-]{16,128}$")
_GROUP_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@handles("aws:elasticache/subnetGroup:SubnetGroup")
def _cache_subnets(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    b.client("elasticache").create_cache_subnet_group(
        CacheSubnetGroupName=state["name"],
        CacheSubnetGroupDescription=inputs.get("description") or "Managed by Pulumi",
        SubnetIds=inputs["subnetIds"],
        Tags=tags(inputs),
    )


@handles("aws:elasticache/replicationGroup:ReplicationGroup")
def _replication_group(
    b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]
) -> None:
    group = state["id"]
    if len(group) > 40 or not _GROUP_ID.match(group):
        raise AwsRejected(f"InvalidParameterValue: replication group ID {group!r}")
    clusters = int(inputs.get("numCacheClusters") or 1)
    token = inputs.get("authToken")
    if token:
        if not inputs.get("transitEncryptionEnabled"):
            raise AwsRejected(
                "InvalidParameterValue: The AUTH token is only supported when "
                "encryption-in-transit is enabled"
            )
        if not _TOKEN.match(token):
            raise AwsRejected(
                "InvalidParameterValue: the AUTH token must be 16-128 characters of "
                "letters, digits and !&#$^<>-"
            )
    if inputs.get("automaticFailoverEnabled") and clusters < 2:
        raise AwsRejected("InvalidParameterCombination: automatic failover needs 2+ clusters")
    if inputs.get("multiAzEnabled") and not inputs.get("automaticFailoverEnabled"):
        raise AwsRejected("InvalidParameterCombination: Multi-AZ needs automatic failover")
    if inputs.get("kmsKeyId"):
        if not inputs.get("atRestEncryptionEnabled"):
            raise AwsRejected("InvalidParameterCombination: a KMS key needs at-rest encryption")
        b.client("kms").describe_key(KeyId=inputs["kmsKeyId"])
    kwargs: dict[str, Any] = {
        "ReplicationGroupId": group,
        "ReplicationGroupDescription": inputs.get("description") or "Managed by Pulumi",
        "NumCacheClusters": clusters,
        "Tags": tags(inputs),
    }
    for ours, api, cast in (
        ("engine", "Engine", str),
        ("engineVersion", "EngineVersion", str),
        ("nodeType", "CacheNodeType", str),
        ("port", "Port", int),
        ("subnetGroupName", "CacheSubnetGroupName", str),
        ("securityGroupIds", "SecurityGroupIds", list),
        ("transitEncryptionEnabled", "TransitEncryptionEnabled", bool),
        ("authToken", "AuthToken", str),
        ("atRestEncryptionEnabled", "AtRestEncryptionEnabled", bool),
        ("kmsKeyId", "KmsKeyId", str),
        ("automaticFailoverEnabled", "AutomaticFailoverEnabled", bool),
        ("multiAzEnabled", "MultiAZEnabled", bool),
        ("snapshotRetentionLimit", "SnapshotRetentionLimit", int),
        ("autoMinorVersionUpgrade", "AutoMinorVersionUpgrade", bool),
    ):
        if inputs.get(ours) is not None:
            kwargs[api] = cast(inputs[ours])
    if clusters > 1 and "ReplicasPerNodeGroup" not in kwargs:
        # moto builds one member unless told the replica count this way (AWS takes
        # NumCacheClusters alone); what moto then holds matches what AWS would
        kwargs["ReplicasPerNodeGroup"] = clusters - 1
    b.client("elasticache").create_replication_group(**kwargs)
