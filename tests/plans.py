"""Whole-environment plans, made once per test session, and the helpers that read them.

`planned(env)` plans each shipped environment (dev, staging, prod) and the bring-your-own
fixture ("byo", tests/fixtures/Pulumi.byo.yaml) once, with moto — standing in for AWS —
checking the plan in this process and read before it is torn down, so tests assert on both
the program's inputs and on AWS's answer to them. The plan carries its policy results and
its cost (`plan_environment` attaches them); `plan(env)` is that plan. `variant_plan(name)`
is the one config variant the in-cluster tests plan, also once.

The plans are shared by every test of the session: a test that changes one works on a copy.
"""

from __future__ import annotations

import copy
import functools
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config import CONFIG_KEY, PlatformConfig, parse_config
from mlops.engine.aws_backend import Backend
from mlops.engine.plan import plan_environment, public
from mlops.manifests import HELM_DIR, kubernetes_objects

ROOT = Path(__file__).resolve().parents[1]
ENVS = ("dev", "staging", "prod")
ENVIRONMENTS = ENVS
BYO_CONFIG = ROOT / "tests" / "fixtures" / "Pulumi.byo.yaml"
ACCOUNT = "123456789012"


def stack_values(env: str) -> dict[str, Any]:
    """The stack file of a shipped environment, as YAML."""
    return yaml.safe_load((ROOT / "environments" / f"Pulumi.{env}.yaml").read_text())


def config_of(env: str) -> PlatformConfig:
    path = BYO_CONFIG if env == "byo" else ROOT / "environments" / f"Pulumi.{env}.yaml"
    return parse_config(yaml.safe_load(path.read_text())["config"][CONFIG_KEY])


# ------------------------------------------------------------------ what AWS (moto) holds


def _buckets(s3: Any) -> dict[str, dict[str, Any]]:
    """Every bucket's settings; None for a setting the bucket does not have."""
    from botocore.exceptions import ClientError

    def held(call: Any, bucket: str, *keys: str) -> Any:
        try:
            answer = call(Bucket=bucket)
        except ClientError:  # not configured on this bucket
            return None
        for key in keys:
            answer = answer[key]
        return answer

    buckets: dict[str, dict[str, Any]] = {}
    for b in s3.list_buckets()["Buckets"]:
        name = b["Name"]
        policy = held(s3.get_bucket_policy, name, "Policy")
        tags = held(s3.get_bucket_tagging, name, "TagSet")
        buckets[name] = {
            "encryption": held(
                s3.get_bucket_encryption, name, "ServerSideEncryptionConfiguration", "Rules"
            ),
            "versioning": s3.get_bucket_versioning(Bucket=name).get("Status"),
            "public_access_block": held(
                s3.get_public_access_block, name, "PublicAccessBlockConfiguration"
            ),
            "policy": json.loads(policy) if policy is not None else None,
            "lifecycle": held(s3.get_bucket_lifecycle_configuration, name, "Rules"),
            "ownership": held(s3.get_bucket_ownership_controls, name, "OwnershipControls", "Rules"),
            "logging": s3.get_bucket_logging(Bucket=name).get("LoggingEnabled"),
            "tags": {t["Key"]: t["Value"] for t in tags} if tags is not None else None,
        }
    return buckets


def _keys(kms: Any) -> dict[str, dict[str, Any]]:
    """Every KMS key by id: its metadata, rotation and alias names."""
    from botocore.exceptions import ClientError

    keys: dict[str, dict[str, Any]] = {}
    for k in kms.list_keys()["Keys"]:
        key_id = k["KeyId"]
        try:
            rotation = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
        except ClientError:  # keys that cannot rotate
            rotation = None
        keys[key_id] = {
            "metadata": kms.describe_key(KeyId=key_id)["KeyMetadata"],
            "rotation": rotation,
            "aliases": [a["AliasName"] for a in kms.list_aliases(KeyId=key_id)["Aliases"]],
        }
    return keys


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
        "buckets": _buckets(b.client("s3")),
        "keys": _keys(b.client("kms")),
    }
    state["node_groups"] = {
        (c, g): eks.describe_nodegroup(clusterName=c, nodegroupName=g)["nodegroup"]
        for c in state["clusters"]
        for g in eks.list_nodegroups(clusterName=c)["nodegroups"]
    }
    return state


# ------------------------------------------------------------------ the plans


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


@functools.cache
def planned(env: str) -> Planned:
    """The environment (or "byo") planned once per session, with what moto holds."""
    seen: dict[str, Any] = {}

    def inspect(backend: Backend) -> None:
        seen.update(_aws_state(backend))

    result = plan_environment(
        env, ROOT, config_file=BYO_CONFIG if env == "byo" else None, inspect=inspect
    )
    return Planned(env=env, plan=result, aws=seen, config=config_of(env))


def plan(env: str) -> dict[str, Any]:
    """The session's plan of the environment (policies and cost attached): do not change it."""
    return planned(env).plan


FEAST_REPO_COMMIT = "0123456789abcdef0123456789abcdef01234567"


@functools.cache
def variant_plan(name: str) -> dict[str, Any]:
    """dev with OIDC in front, a public domain, DynamoDB as the online store and the image
    of a commit to run `feast apply` in."""
    assert name == "oidc-dynamodb"
    values = copy.deepcopy(stack_values("dev"))
    platform = values["config"]["mlops-platform:platform"]
    platform["online_store"] = {"kind": "dynamodb"}
    comps = platform.setdefault("components", {})
    comps["auth"] = {
        "mode": "oidc",
        "oidc": {"issuer_url": "https://login.example.com/realms/ml", "client_id": "mlops"},
    }
    comps["ingress"] = {"domain": "ml.example.com", "class_name": "alb"}
    comps["cert_manager"] = {"acme_email": "platform@example.com"}
    comps.setdefault("feast", {})["repo_image_tag"] = FEAST_REPO_COMMIT
    values["config"]["mlops-platform:oidcClientSecret"] = {"secure": "v1:offline"}
    with tempfile.TemporaryDirectory(prefix="variant-") as tmp_dir:
        path = Path(tmp_dir) / "Pulumi.dev.yaml"
        path.write_text(yaml.safe_dump(values))
        return plan_environment("dev", ROOT, config_file=path)


# ------------------------------------------------------------------ reading a plan


def objects(p: dict[str, Any]) -> list[dict[str, Any]]:
    """Kubernetes objects (not Helm releases) the plan declares, as manifests."""
    return [obj for name, obj in kubernetes_objects(p) if not name.startswith(f"{HELM_DIR}/")]


def releases(p: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        obj["name"]: obj for name, obj in kubernetes_objects(p) if name.startswith(f"{HELM_DIR}/")
    }


def find(p: dict[str, Any], kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    for obj in objects(p):
        meta = obj["metadata"]
        if obj["kind"] == kind and meta["name"] == name and meta.get("namespace") == namespace:
            return obj
    raise AssertionError(f"no {kind} {namespace}/{name} in the plan")


def resources_of(p: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in p["resources"] if r["type"] == typ]


def state(p: dict[str, Any], typ: str, name: str) -> dict[str, Any]:
    (res,) = [r for r in resources_of(p, typ) if r["name"] == name]
    return p["_states"][res["urn"]]


def artifact_bucket(p: dict[str, Any]) -> str:
    return str(state(p, "aws:s3/bucket:Bucket", "artifacts")["bucket"])


def role_trusting(p: dict[str, Any], role_arn: str) -> dict[str, str]:
    """The IRSA trust condition (sub, aud) of the role with this ARN."""
    for role in resources_of(p, "aws:iam/role:Role"):
        if p["_states"][role["urn"]]["arn"] == role_arn:
            (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
            assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
            cond = statement["Condition"]["StringEquals"]
            return {k.rsplit(":", 1)[1]: v for k, v in cond.items()}
    raise AssertionError(f"no role {role_arn} in the plan")


def sa_role(p: dict[str, Any], namespace: str, name: str) -> str:
    sa = find(p, "ServiceAccount", name, namespace)
    return str(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"])


POD_KINDS = ("Deployment", "CronJob", "Job")


def pod_specs(p: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for obj in objects(p):
        where = f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"
        if obj["kind"] == "Deployment" or obj["kind"] == "Job":
            out.append((where, obj["spec"]["template"]["spec"]))
        elif obj["kind"] == "CronJob":
            out.append((where, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
        elif obj["kind"] == "ClusterServingRuntime":
            out.append((where, obj["spec"]))
    return out


def trust_of(role: dict[str, Any]) -> dict[str, Any]:
    doc = role["inputs"]["assumeRolePolicy"]
    return json.loads(doc) if isinstance(doc, str) else doc
