"""The config model: the shipped environments validate; mistakes name their field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import CONFIG_KEY, ConfigError, PlatformConfig, parse_config

ROOT = Path(__file__).resolve().parents[2]
ENVS = ("dev", "staging", "prod")


def raw(env: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "environments" / f"Pulumi.{env}.yaml").read_text())
    return copy.deepcopy(doc["config"][CONFIG_KEY])


@pytest.mark.parametrize("env", ENVS)
def test_shipped_environments_are_valid(env: str) -> None:
    cfg = parse_config(raw(env))
    assert isinstance(cfg, PlatformConfig)
    assert cfg.tags["owner"]


def test_environments_differ_only_in_values() -> None:
    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        return type(value).__name__

    configs = [parse_config(raw(env)).model_dump() for env in ENVS]
    # same model, same keys after defaults; only values differ
    assert shape(configs[0]).keys() == shape(configs[1]).keys() == shape(configs[2]).keys()


def test_prod_is_highly_available_and_dev_is_cheap() -> None:
    dev, prod = parse_config(raw("dev")), parse_config(raw("prod"))
    assert dev.network.nat_gateways == "single" and prod.network.nat_gateways == "per_az"
    assert prod.network.az_count >= 3
    assert dev.cluster.node_groups.workloads.capacity_type == "SPOT"
    assert prod.artifact_store.protect and not prod.artifact_store.force_destroy
    assert dev.artifact_store.force_destroy and not dev.artifact_store.protect


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = doc
    for key in parents:
        node = node.setdefault(key, {})
    if value is _DELETE:
        node.pop(last)
    else:
        node[last] = value


_DELETE = object()

INVALID = [
    ("unknown top-level key", "colour", "blue", "platform.colour: unknown key"),
    ("unknown nested key", "network.vpc_id", "vpc-1", "platform.network.vpc_id: unknown key"),
    ("missing tag", "tags.owner", _DELETE, "platform.tags: missing required tag(s): owner"),
    (
        "environment tag set by hand",
        "tags.environment",
        "prod",
        "platform.tags: 'environment' is set from the stack name; remove it",
    ),
    ("bad region", "region", "mars-1", "platform.region: 'mars-1' is not an AWS region"),
    ("bad prefix", "name_prefix", "ML_Ops", "platform.name_prefix: 'ML_Ops' must be 3-20 chars"),
    ("missing region", "region", _DELETE, "platform.region: is required"),
    (
        "public endpoint without CIDRs",
        "cluster.endpoint_public_access",
        True,
        "platform.cluster.public_access_cidrs: is required when endpoint_public_access is true",
    ),
    (
        "gpu group max 0",
        "cluster.node_groups.gpu",
        {"enabled": True, "min_size": 0, "desired_size": 0, "max_size": 0},
        "platform.cluster.node_groups.gpu.max_size: must be at least 1 when the group is enabled",
    ),
    (
        "desired above max",
        "cluster.node_groups.workloads.desired_size",
        9,
        "platform.cluster.node_groups.workloads.desired_size: 9 is outside min_size..max_size",
    ),
    (
        "system group on spot",
        "cluster.node_groups.system.capacity_type",
        "SPOT",
        "platform.cluster.node_groups.system.capacity_type: must be ON_DEMAND",
    ),
    (
        "bring-your-own without OIDC ARN",
        "cluster",
        {"mode": "existing", "kubeconfig": "apiVersion: v1"},
        "platform.cluster.oidc_provider_arn: is required when mode is 'existing'",
    ),
    (
        "one zone for EKS",
        "network.az_count",
        1,
        "platform.network.az_count: EKS needs subnets in at least 2 zones",
    ),
    (
        "public CIDR for the VPC",
        "network.cidr",
        "8.8.0.0/16",
        "platform.network.cidr: 8.8.0.0/16 is not a private (RFC 1918) range",
    ),
    (
        "malformed CIDR",
        "network.cidr",
        "10.0.0.0/33",
        "platform.network.cidr: '10.0.0.0/33' is not",
    ),
    (
        "force_destroy on a protected store",
        "artifact_store",
        {"force_destroy": True, "protect": True},
        "platform.artifact_store.force_destroy: cannot be true on a protected store",
    ),
    (
        "kserve without cert-manager",
        "components",
        {"cert_manager": {"enabled": False}},
        "platform.components.kserve.enabled: requires cert_manager.enabled",
    ),
    (
        "duplicate team",
        "teams",
        [{"name": "fraud"}, {"name": "fraud"}],
        "platform.teams: team name(s) used twice: fraud",
    ),
    (
        "dynamodb table Feast would never use",
        "online_store",
        {"kind": "dynamodb", "dynamodb": {"tables": ["platform.views", "feast-online"]}},
        "platform.online_store.dynamodb.tables.1: 'feast-online' is not a table Feast uses",
    ),
    ("team name not a DNS label", "teams", [{"name": "Fraud_Team"}], "platform.teams.0.name:"),
    ("wrong type", "network.az_count", "three", "platform.network.az_count: Input should be"),
]


@pytest.mark.parametrize(("case", "path", "value", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_config_names_field(case: str, path: str, value: Any, message: str) -> None:
    doc = raw("staging")
    _set(doc, path, value)
    with pytest.raises(ConfigError) as err:
        parse_config(doc)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^platform: expected a mapping"):
        parse_config(["region"])
