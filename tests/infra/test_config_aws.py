"""Config validation of the AWS foundation: invalid combinations name their field path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from plans import BYO_CONFIG, ROOT

from infra.config import CONFIG_KEY, ConfigError, parse_config

BYO_BASE = {
    "mode": "existing",
    "kubeconfig": "apiVersion: v1",
    "oidc_provider_arn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1"
    ".amazonaws.com/id/ABC",
    "vpc_id": "vpc-0a1b2c3d4e5f60718",
    "private_subnet_ids": ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
    "node_security_group_id": "sg-0a1b2c3d4e5f60733",
}


def staging() -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "environments" / "Pulumi.staging.yaml").read_text())
    return copy.deepcopy(doc["config"][CONFIG_KEY])


def byo_without(field: str) -> dict[str, Any]:
    return {k: v for k, v in BYO_BASE.items() if k != field}


CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "GPU group with max size 0",
        {
            "cluster.node_groups.gpu": {
                "enabled": True,
                "min_size": 0,
                "desired_size": 0,
                "max_size": 0,
            }
        },
        "platform.cluster.node_groups.gpu.max_size: must be at least 1 when the group is enabled",
    ),
    (
        "public endpoint without CIDRs",
        {"cluster.endpoint_public_access": True},
        "platform.cluster.public_access_cidrs: is required when endpoint_public_access is true",
    ),
    (
        "public endpoint open to the internet",
        {"cluster.endpoint_public_access": True, "cluster.public_access_cidrs": ["0.0.0.0/0"]},
        "platform.cluster.public_access_cidrs: open the API server to the internet "
        "(0.0.0.0/0 reaches 100% of the public IPv4 internet)",
    ),
    (
        "public endpoint open to the internet in two halves",
        {
            "cluster.endpoint_public_access": True,
            "cluster.public_access_cidrs": ["0.0.0.0/1", "128.0.0.0/1"],
        },
        "platform.cluster.public_access_cidrs: open the API server to the internet "
        "(0.0.0.0/1, 128.0.0.0/1 together reach 100% of the public IPv4 internet)",
    ),
    (
        "public endpoint open to the internet as every public /8",
        {
            "cluster.endpoint_public_access": True,
            # every public /8 in the 11 blocks that hold them (EKS takes at most 40 CIDRs)
            "cluster.public_access_cidrs": [
                "1.0.0.0/8",
                "2.0.0.0/7",
                "4.0.0.0/6",
                "8.0.0.0/7",
                "11.0.0.0/8",
                "12.0.0.0/6",
                "16.0.0.0/4",
                "32.0.0.0/3",
                "64.0.0.0/2",
                "128.0.0.0/2",
                "192.0.0.0/3",
            ],
        },
        "platform.cluster.public_access_cidrs: open the API server to the internet "
        "(16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, 128.0.0.0/2, 192.0.0.0/3 together reach 100% of "
        "the public IPv4 internet)",
    ),
    (
        "bring-your-own without OIDC provider ARN",
        {"cluster": byo_without("oidc_provider_arn"), "network": None},
        "platform.cluster.oidc_provider_arn: is required when mode is 'existing'",
    ),
    (
        "bring-your-own without its VPC",
        {"cluster": byo_without("vpc_id"), "network": None},
        "platform.cluster.vpc_id: is required when mode is 'existing'",
    ),
    (
        "bring-your-own with one subnet",
        {
            "cluster": {**BYO_BASE, "private_subnet_ids": ["subnet-0a1b2c3d4e5f60711"]},
            "network": None,
        },
        "platform.cluster.private_subnet_ids: needs at least 2 subnets",
    ),
    (
        "bring-your-own facts on a created cluster",
        {"cluster.vpc_id": "vpc-0a1b2c3d4e5f60718"},
        "platform.cluster.vpc_id: only applies when mode is 'existing'",
    ),
    (
        "Multi-AZ database with one zone",
        {"databases.mlflow.multi_az": True, "network.az_count": 1},
        "platform.databases.mlflow.multi_az: "
        "needs at least 2 availability zones, the network has 1",
    ),
    (
        "Multi-AZ cache with one zone",
        {"online_store.redis.multi_az": True, "network.az_count": 1},
        "platform.online_store.redis.multi_az: needs at least 2 availability zones",
    ),
    (
        "Multi-AZ cache without a replica",
        {"online_store.redis": {"multi_az": True, "num_cache_clusters": 1}},
        "platform.online_store.redis.num_cache_clusters: must be at least 2 when multi_az is true",
    ),
    (
        "storage autoscaling ceiling below the size",
        {"databases.kfp.max_allocated_storage_gb": 50, "databases.kfp.allocated_storage_gb": 50},
        "platform.databases.kfp.max_allocated_storage_gb: must exceed allocated_storage_gb (50)",
    ),
    (
        "protected database without deletion protection",
        {"databases.mlflow.protect": True, "databases.mlflow.deletion_protection": False},
        "platform.databases.mlflow.deletion_protection: must be true on a protected database",
    ),
    (
        "unsupported engine",
        {"databases.mlflow.engine": "oracle-ee"},
        "platform.databases.mlflow.engine: Input should be 'postgres' or 'mysql'",
    ),
    (
        "more zones than the subnet layout holds",
        {"network.az_count": 4},
        "platform.network.az_count: Input should be less than or equal to 3",
    ),
    (
        "CI branch without a repository",
        {"ci": {"branch": "main"}},
        "platform.ci.branch: only applies when github_repository is set",
    ),
    (
        "repository listed twice",
        {"registry.repositories": ["serving", "serving"]},
        "platform.registry.repositories: lists a repository twice",
    ),
    (
        "unknown key in the cache",
        {"online_store.redis.cluster_mode": True},
        "platform.online_store.redis.cluster_mode: unknown key",
    ),
]


def _apply(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return doc


@pytest.mark.parametrize(("case", "changes", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_combination_names_the_field(case: str, changes: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_apply(staging(), changes))
    assert str(err.value).startswith(message), str(err.value)


def test_public_endpoint_for_named_office_and_vpn_ranges_is_accepted() -> None:
    cidrs = ["81.2.69.0/24", "192.0.2.16/28", "100.20.0.0/16", "4.0.0.0/9"]
    doc = _apply(
        staging(),
        {"cluster.endpoint_public_access": True, "cluster.public_access_cidrs": cidrs},
    )
    assert parse_config(doc).cluster.public_access_cidrs == cidrs


def test_the_bring_your_own_fixture_is_valid() -> None:
    cfg = parse_config(yaml.safe_load(BYO_CONFIG.read_text())["config"][CONFIG_KEY])
    assert cfg.cluster.mode == "existing" and cfg.zone_count == 2


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_sizing_differs_only_in_values(env: str) -> None:
    doc = yaml.safe_load((ROOT / "environments" / f"Pulumi.{env}.yaml").read_text())
    cfg = parse_config(doc["config"][CONFIG_KEY])
    if env == "dev":
        assert cfg.network.nat_gateways == "single"
        assert cfg.cluster.node_groups.workloads.capacity_type == "SPOT"
        assert not cfg.databases.mlflow.deletion_protection
    if env == "prod":
        assert cfg.network.nat_gateways == "per_az" and cfg.network.az_count == 3
        assert cfg.databases.mlflow.multi_az and cfg.databases.kfp.multi_az
        assert cfg.databases.mlflow.deletion_protection and cfg.databases.mlflow.final_snapshot
        assert cfg.ci.environment == "prod" and cfg.ci.branch == "main"
