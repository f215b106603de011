"""Tagging: every taggable AWS resource carries the cost and ownership tags.

A resource counts as taggable when its inputs have a ``tags`` key or its type is in
`KNOWN_TAGGABLE` (so leaving ``tags`` out does not escape the rule). Tags the AWS
provider adds to everything (``defaultTags``) count.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs

from .common import as_dict, config, get, resource_policy, tags_of

DEFAULT_REQUIRED = ["owner", "cost-center", "environment", "data-classification"]
DEFAULT_CLASSIFICATIONS = ["public", "internal", "confidential", "restricted"]
KNOWN_TAGGABLE = frozenset(
    {
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:kms/key:Key",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:rds/instance:Instance",
        "aws:rds/cluster:Cluster",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/instance:Instance",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:ec2/flowLog:FlowLog",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:dynamodb/table:Table",
        "aws:ecr/repository:Repository",
        "aws:secretsmanager/secret:Secret",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:lb/targetGroup:TargetGroup",
        "aws:sqs/queue:Queue",
        "aws:sns/topic:Topic",
        "aws:lambda/function:Function",
        "aws:efs/fileSystem:FileSystem",
    }
)


def is_taggable(args: ResourceValidationArgs) -> bool:
    """An AWS resource with a ``tags`` input or of a type known to take tags."""
    if not args.resource_type.startswith("aws:"):
        return False
    return "tags" in args.props or args.resource_type in KNOWN_TAGGABLE


def effective_tags(args: ResourceValidationArgs) -> dict[str, Any]:
    """The resource's tags over the provider's ``defaultTags``."""
    merged: dict[str, Any] = {}
    if args.provider is not None:
        merged.update(as_dict(get(args.provider.props, "defaultTags", "tags")))
    merged.update(tags_of(args.props))
    return merged


def _check_required(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_taggable(args):
        return
    tags = effective_tags(args)
    required = [str(t) for t in config(args, "required_tags", DEFAULT_REQUIRED)]
    missing = [t for t in required if not str(tags.get(t) or "").strip()]
    if missing:
        report(f"Missing tag(s): {', '.join(missing)}.", None)


def _check_classification(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_taggable(args):
        return
    value = effective_tags(args).get("data-classification")
    allowed = [str(v) for v in config(args, "allowed_values", DEFAULT_CLASSIFICATIONS)]
    if value is not None and value not in allowed:
        report(f"data-classification '{value}' is not one of {', '.join(allowed)}.", None)


def _stack_of(urn: str) -> str | None:
    parts = urn.split("::")
    if len(parts) < 2 or not parts[0].startswith("urn:pulumi:"):
        return None
    return parts[0][len("urn:pulumi:") :]


def _check_environment(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_taggable(args):
        return
    value = effective_tags(args).get("environment")
    stack = _stack_of(args.urn)
    if value is not None and stack is not None and value != stack:
        report(f"Tag environment='{value}' but the stack is '{stack}'.", None)


POLICIES: list[Policy] = [
    resource_policy(
        "aws-required-tags",
        "Taggable AWS resources carry the tags owner, cost-center, environment and "
        "data-classification.",
        None,
        _check_required,
        schema={
            "required_tags": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string"},
                "default": DEFAULT_REQUIRED,
            }
        },
        remediation="Pass the stack's tags to every resource, or set the provider's defaultTags.",
    ),
    resource_policy(
        "aws-data-classification-valid",
        "The data-classification tag takes one of the allowed values.",
        None,
        _check_classification,
        schema={
            "allowed_values": {
                "type": "array",
                "items": {"type": "string"},
                "default": DEFAULT_CLASSIFICATIONS,
            }
        },
    ),
    resource_policy(
        "aws-environment-tag-matches-stack",
        "The environment tag names the stack the resource is deployed by.",
        None,
        _check_environment,
    ),
]
