"""Each environment (and the bring-your-own fixture) planned once per session, with what
moto — standing in for AWS — holds afterwards, so tests assert on both the program's
inputs and on AWS's answer to them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import CONFIG_KEY, PlatformConfig, parse_config
from mlops.engine.aws_backend import Backend
from mlops.engine.plan import plan_environment, public

ROOT = Path(__file__).resolve().parents[2]
ENVS = ("dev", "staging", "prod")
BYO_CONFIG = ROOT / "tests" / "fixtures" / "Pulumi.byo.yaml"
ACCOUNT = "123456789012"


def config_of(env: str) -> PlatformConfig:
    path = BYO_CONFIG if env == "byo" else ROOT / "environments" / f"Pulumi.{env}.yaml"
    return parse_config(yaml.safe_load(path.read_text())["config"][CONFIG_KEY])


def _aws_state(b: Backend) -> dict[str, Any]:
    ec2, iam = b.client("ec2"), b.client("iam")
    rds, cache, sm = b.client("rds"), b.client("elasticache"), b.client("secretsmanager")
    ecr, eks, logs, ddb = b.client("ecr"), b.client("eks"), b.client("logs"), b.client("dynamodb")
    state: dict[str, Any] = {
        "vpcs": ec2.describe_vpcs()["Vpcs"],
        "subnets": ec2.describe_subnets()["Subnets"],
        "route_tables": ec2.describe_route_tables()["RouteTables"],
        "nat_gateways": ec2.describe_nat_gateways()["NatGateways"],
        "security_groups": ec2.describe_security_groups()["SecurityGroups"],
        "vpc_endpoints": ec2.describe_vpc_endpoints()["VpcEndpoints"],
        "flow_logs": ec2.describe_flow_logs()["FlowLogs"],
        "launch_templates": {
            t["LaunchTemplateName"]: ec2.describe_launch_template_versions(
                LaunchTemplateId=t["LaunchTemplateId"]
            )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
            for t in ec2.describe_launch_templates()["LaunchTemplates"]
        },
        "log_groups": logs.describe_log_groups()["logGroups"],
        "roles": {
            r["RoleName"]: {
                **r,
                "inline": {
                    p: iam.get_role_policy(RoleName=r["RoleName"], PolicyName=p)["PolicyDocument"]
                    for p in iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"]
                },
                "attached": [
                    a["PolicyArn"]
                    for a in iam.list_attached_role_policies(RoleName=r["RoleName"])[
                        "AttachedPolicies"
                    ]
                ],
            }
            for r in iam.list_roles()["Roles"]
        },
        "oidc_providers": [
            iam.get_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"]) | {"Arn": p["Arn"]}
            for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        ],
        "db_instances": rds.describe_db_instances()["DBInstances"],
        "db_subnet_groups": rds.describe_db_subnet_groups()["DBSubnetGroups"],
        "replication_groups": cache.describe_replication_groups()["ReplicationGroups"],
        "secrets": {
            s["Name"]: {**s, "value": sm.get_secret_value(SecretId=s["ARN"])["SecretString"]}
            for s in sm.list_secrets()["SecretList"]
        },
        "repositories": {
            r["repositoryName"]: {
                **r,
                "policy": json.loads(
                    ecr.get_repository_policy(repositoryName=r["repositoryName"])["policyText"]
                ),
                "lifecycle": json.loads(
                    ecr.get_lifecycle_policy(repositoryName=r["repositoryName"])[
                        "lifecyclePolicyText"
                    ]
                ),
            }
            for r in ecr.describe_repositories()["repositories"]
        },
        "clusters": {
            name: eks.describe_cluster(name=name)["cluster"]
            for name in eks.list_clusters()["clusters"]
        },
        "tables": {
            t: {
                **ddb.describe_table(TableName=t)["Table"],
                "pitr": ddb.describe_continuous_backups(TableName=t)[
                    "ContinuousBackupsDescription"
                ]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
            }
            for t in ddb.list_tables()["TableNames"]
        },
    }
    state["node_groups"] = {
        (c, g): eks.describe_nodegroup(clusterName=c, nodegroupName=g)["nodegroup"]
        for c in state["clusters"]
        for g in eks.list_nodegroups(clusterName=c)["nodegroups"]
    }
    return state


@dataclass
class Planned:
    """One planned environment: the plan, its JSON text, and what AWS (moto) holds."""

    env: str
    plan: dict[str, Any]
    aws: dict[str, Any]
    config: PlatformConfig

    @property
    def text(self) -> str:
        return json.dumps(public(self.plan), sort_keys=True)

    @property
    def resources(self) -> list[dict[str, Any]]:
        return list(self.plan["resources"])

    def of_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.plan["resources"] if r["type"] == typ]

    def one(self, typ: str, name: str) -> dict[str, Any]:
        found = [r for r in self.of_type(typ) if r["name"] == name]
        assert len(found) == 1, f"{typ} {name}: {len(found)} found"
        return found[0]

    def state(self, resource: dict[str, Any]) -> dict[str, Any]:
        """What the (mocked) provider returned for a resource: ids, ARNs, endpoints."""
        return dict(self.plan["_states"][resource["urn"]])


def _plan(env: str) -> Planned:
    seen: dict[str, Any] = {}

    def inspect(backend: Backend) -> None:
        seen.update(_aws_state(backend))

    plan = plan_environment(env, config_file=BYO_CONFIG if env == "byo" else None, inspect=inspect)
    return Planned(env=env, plan=plan, aws=seen, config=config_of(env))


_CACHE: dict[str, Planned] = {}


def planned_env(env: str) -> Planned:
    if env not in _CACHE:
        _CACHE[env] = _plan(env)
    return _CACHE[env]


@pytest.fixture(params=ENVS)
def env(request: pytest.FixtureRequest) -> Planned:
    """Each shipped environment, planned once per test session."""
    return planned_env(request.param)


@pytest.fixture
def byo() -> Planned:
    return planned_env("byo")


@pytest.fixture
def dev() -> Planned:
    return planned_env("dev")


@pytest.fixture
def staging() -> Planned:
    return planned_env("staging")


@pytest.fixture
def prod() -> Planned:
    return planned_env("prod")


def trust_of(role: dict[str, Any]) -> dict[str, Any]:
    doc = role["inputs"]["assumeRolePolicy"]
    return json.loads(doc) if isinstance(doc, str) else doc
