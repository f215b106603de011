"""The names and tags the config derives, held to AWS's rules and to the plans.

`PlatformConfig.derived_names` lists every AWS name a stack gives its resources, so that
config validation can refuse one AWS would refuse, at the config field that shapes it.
These tests keep that list equal to the names the environments' plans really hold, keep
the naming table equal to botocore's service models where they carry the rule, and keep
the tag reserve equal to what the platform adds.
"""

from __future__ import annotations

import collections
from typing import Any

import botocore.session
import pytest
from plans import ACCOUNT, planned

from infra.base import naming
from infra.config import (
    ACCOUNT as ACCOUNT_PLACEHOLDER,
)
from infra.config import (
    MAX_CONFIG_TAGS,
    PLATFORM_TAG_PREFIXES,
    PLATFORM_TAGS,
    PLATFORM_TAGS_PER_RESOURCE,
)

# the input of each AWS resource type that names it, and the naming rule it follows
NAMED: dict[tuple[str, str], str] = {
    ("aws:iam/role:Role", "name"): "iam-role",
    ("aws:iam/policy:Policy", "name"): "iam-policy",
    ("aws:eks/cluster:Cluster", "name"): "eks-cluster",
    ("aws:cloudwatch/logGroup:LogGroup", "name"): "log-group",
    ("aws:kms/alias:Alias", "name"): "kms-alias",
    ("aws:ec2/launchTemplate:LaunchTemplate", "name"): "launch-template",
    ("aws:ec2/securityGroup:SecurityGroup", "name"): "security-group",
    ("aws:rds/instance:Instance", "identifier"): "rds-instance",
    ("aws:rds/instance:Instance", "finalSnapshotIdentifier"): "rds-snapshot",
    ("aws:rds/parameterGroup:ParameterGroup", "name"): "rds-parameter-group",
    ("aws:rds/subnetGroup:SubnetGroup", "name"): "rds-subnet-group",
    ("aws:elasticache/replicationGroup:ReplicationGroup", "replicationGroupId"): (
        "elasticache-replication-group"
    ),
    ("aws:elasticache/subnetGroup:SubnetGroup", "name"): "elasticache-subnet-group",
    ("aws:secretsmanager/secret:Secret", "name"): "secret",
    ("aws:ecr/repository:Repository", "name"): "ecr-repository",
    ("aws:s3/bucket:Bucket", "bucket"): "s3-bucket",
    ("aws:codebuild/project:Project", "name"): "codebuild-project",
}
# inputs that hold the stack's base but name no new resource: references to a name listed
# above, free-text descriptions (255 characters and more, far above any derived name); ARNs
# and JSON documents (policies) are references too
REFERENCES = {
    "bucket",
    "targetBucket",
    "targetPrefix",
    "clusterName",
    "role",
    "repository",
    "dbSubnetGroupName",
    "parameterGroupName",
    "subnetGroupName",
    "description",
}
STACKS = ("dev", "staging", "prod", "byo")


def _plan_names(plan: dict[str, Any], base: str) -> set[tuple[str, str]]:
    names: set[tuple[str, str]] = set()
    for r in plan["resources"]:
        if not r["type"].startswith("aws:"):
            continue
        for key, value in r["inputs"].items():
            if (r["type"], key) in NAMED and isinstance(value, str):
                names.add((NAMED[r["type"], key], value))
            elif isinstance(value, str) and base in value and not value.startswith(("arn:", "{")):
                assert key in REFERENCES, (
                    f"{r['type']}.{key} = {value!r} holds the stack's base but is not a "
                    "name derived_names lists: add it there and to NAMED"
                )
    return names


@pytest.mark.parametrize("stack", STACKS)
def test_derived_names_are_the_names_the_plan_gives(stack: str) -> None:
    env = planned(stack)
    base = f"{env.config.name_prefix}-{stack}"
    derived = {
        (d.kind, d.name.replace(ACCOUNT_PLACEHOLDER, ACCOUNT))
        for d in env.config.derived_names(stack)
    }
    in_plan = {
        (kind, name)
        for kind, name in _plan_names(env.plan, base)
        # fixed names (an inline policy "access", a Feast table) do not come from the base
        if base in name
    }
    assert in_plan == derived


def _botocore_rule(service: str, operation: str, member: str) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model(service)
    return dict(model.operation_model(operation).input_shape.members[member].metadata)


@pytest.mark.parametrize(
    ("kind", "service", "operation", "member"),
    [
        ("iam-role", "iam", "CreateRole", "RoleName"),
        ("iam-policy", "iam", "PutRolePolicy", "PolicyName"),
        ("eks-cluster", "eks", "CreateCluster", "name"),
        ("kms-alias", "kms", "CreateAlias", "AliasName"),
        ("ecr-repository", "ecr", "CreateRepository", "repositoryName"),
        ("log-group", "logs", "CreateLogGroup", "logGroupName"),
        ("codebuild-project", "codebuild", "CreateProject", "name"),
    ],
)
def test_the_naming_table_is_botocores(kind: str, service: str, operation: str, member: str):
    rule, model = naming.RULES[kind], _botocore_rule(service, operation, member)
    assert (rule.min_len, rule.max_len, rule.pattern) == (
        model["min"],
        model["max"],
        model["pattern"],
    )


def test_the_secret_name_length_is_botocores() -> None:
    model = _botocore_rule("secretsmanager", "CreateSecret", "Name")
    assert (naming.RULES["secret"].min_len, naming.RULES["secret"].max_len) == (
        model["min"],
        model["max"],
    )


def test_the_tag_rules_are_botocores() -> None:
    iam = botocore.session.get_session().get_service_model("iam")
    tag = iam.operation_model("CreateRole").input_shape.members["Tags"].member.members
    assert tag["Key"].metadata == {
        "min": 1,
        "max": naming.TAG_KEY_MAX,
        "pattern": r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+",
    }
    assert tag["Value"].metadata["max"] == naming.TAG_VALUE_MAX
    eks = botocore.session.get_session().get_service_model("eks")
    assert eks.shape_for("TagMap").metadata["max"] == naming.TAGS_PER_RESOURCE


@pytest.mark.parametrize("stack", STACKS)
def test_the_platform_adds_no_more_tags_than_it_reserves(stack: str) -> None:
    env = planned(stack)
    added: collections.Counter[str] = collections.Counter()
    most = 0
    for r in env.resources:
        tags = r["inputs"].get("tags")
        if not isinstance(tags, dict):
            continue
        own = [k for k in tags if k not in env.config.tags]
        added.update(own)
        most = max(most, len(own))
    assert most <= PLATFORM_TAGS_PER_RESOURCE
    assert MAX_CONFIG_TAGS + PLATFORM_TAGS_PER_RESOURCE == naming.TAGS_PER_RESOURCE
    # every key the platform sets is one a config tag may not take
    for key in added:
        assert key in PLATFORM_TAGS or key.startswith(PLATFORM_TAG_PREFIXES), key


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("xn--platform-artifacts", "S3 reserves the prefix 'xn--'"),
        ("sthree-artifacts", "S3 reserves the prefix 'sthree-'"),
        ("amzn-s3-demo-artifacts", "S3 reserves the prefix 'amzn-s3-demo-'"),
        ("artifacts-s3alias", "S3 reserves the suffix '-s3alias'"),
        ("artifacts--ol-s3", "S3 reserves the suffix '--ol-s3'"),
        ("artifacts.mrap", "S3 reserves the suffix '.mrap'"),
        ("artifacts--x-s3", "S3 reserves the suffix '--x-s3'"),
        ("artifacts--table-s3", "S3 reserves the suffix '--table-s3'"),
        ("192.168.5.4", "formatted as an IP address"),
        ("my..bucket", "two adjacent periods"),
        ("My-Bucket", "lowercase letters"),
        ("bucket-", "beginning and ending with a letter or digit"),
        ("ab", "is 2 characters"),
        ("a" * 64, "is 64 characters"),
    ],
)
def test_s3_bucket_naming_rules(name: str, why: str) -> None:
    problem = naming.bucket_problem(name)
    assert problem is not None and why in problem


def test_a_valid_bucket_name_passes() -> None:
    assert naming.bucket_problem("mlops-prod-feast-registry-123456789012-logs") is None


@pytest.mark.parametrize(
    ("kind", "name", "why"),
    [
        ("rds-instance", "ml--ops-dev-mlflow", "two consecutive hyphens"),
        ("rds-instance", "1mlops-dev-mlflow", "not a valid RDS DB instance identifier"),
        ("elasticache-replication-group", "a" * 41, "is 41 characters"),
        ("security-group", "sg-dev-kfp-db", "starts with 'sg-'"),
        ("kms-alias", "alias/aws/mine", "reserved for AWS managed keys"),
        ("iam-role", "rôle", "not a valid IAM role name"),
        ("ecr-repository", "Mlops-dev/serving", "not a valid ECR repository name"),
        ("rds-subnet-group", "default", "which RDS reserves"),
    ],
)
def test_derived_name_rules(kind: str, name: str, why: str) -> None:
    problem = naming.name_problem(kind, name)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("owner", "a<b>", "characters AWS tags do not allow: '<' '>'"),
        ("owner", "x" * 257, "is 257 characters"),
        ("owner", "line\nbreak", "characters AWS tags do not allow"),
        ("owner", "aws:mine", "starts with 'aws:'"),
        ("owner", "RDS:mine", "starts with 'rds:'"),
        ("k" * 129, "v", "is 129 characters"),
        ("AWS:owner", "v", "starts with 'aws:'"),
        ("team/€", "v", "characters AWS tags do not allow: '€'"),
    ],
)
def test_tag_rules(key: str, value: str, why: str) -> None:
    problem = naming.tag_key_problem(key) or naming.tag_value_problem(value)
    assert problem is not None and why in problem


def test_tags_in_any_script_pass() -> None:
    assert naming.tag_key_problem("équipe/données_1") is None
    assert naming.tag_value_problem("平台 team-a @ cc:1234 +x=y") is None
    assert naming.tag_value_problem("") is None
