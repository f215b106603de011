"""Coverage: every resource the stack creates is of a type the pack knows.

Rules match resources by type token, so a resource of a type no rule reads is checked by
nothing: a new AWS service, a Kubernetes kind the workload rules do not know, a type
token a program made up. `resource-type-known` reports such a resource, so an unknown
type is a decision (a rule for it, or an entry below saying why it carries nothing the
pack governs), never a silent pass.

A type is known when a rule reads it (resource policies register their types in
`common.TYPES_READ`, stack policies with ``types=`` or in `READ_BY_STACK_RULES`), when it
is `REVIEWED` (it carries nothing the pack governs beyond what rules check elsewhere,
tags included), or when it is a `KNOWN_GAP` (something it sets should be checked and is
not yet: listed with what, in policies/README.md too). Component resources create
nothing themselves (their children are checked): a resource the engine hands without a
provider is one, unless its package is a provider this pack governs (then it is judged
all the same: a remote component such as a YAML ConfigGroup whose objects the plan does
not show must be known too). Provider resources (``pulumi:providers:*``) hold a
provider's settings.
"""

from __future__ import annotations

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs

from .common import TYPES_READ, resource_policy

# Packages of the providers the pack governs: their types are judged even without a
# provider reference (the engine names one for every custom resource).
PROVIDER_PACKAGES = frozenset({"aws", "kubernetes", "random", "tls", "command"})

# Types the existing stack policies read (stack policies declared before `types=`).
READ_BY_STACK_RULES: dict[str, tuple[str, ...]] = {
    "s3-bucket-encryption-kms": (
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:"
        "BucketServerSideEncryptionConfigurationV2",
    ),
    "s3-bucket-versioning": (
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
    ),
    "s3-bucket-public-access-block": ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",),
    "s3-bucket-tls-only": ("aws:s3/bucketPolicy:BucketPolicy",),
    "s3-bucket-access-logging": (
        "aws:s3/bucketLogging:BucketLogging",
        "aws:s3/bucketLoggingV2:BucketLoggingV2",
    ),
    "security-group-no-public-ingress": (
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
    ),
    "vpc-flow-logs": ("aws:ec2/vpc:Vpc", "aws:ec2/flowLog:FlowLog"),
    "workload-aws-access": (
        "kubernetes:core/v1:ServiceAccount",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    ),
    "kserve-storage-uri-in-artifact-bucket": (
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    ),
}

# Reviewed: what each sets is governed elsewhere or is nothing the pack governs.
REVIEWED: dict[str, str] = {
    "aws:ec2/eip:Eip": "an address for a NAT gateway; exposure is decided by security groups",
    "aws:ec2/internetGateway:InternetGateway": "connects a VPC; exposure is decided by "
    "security groups (security-group-no-public-ingress)",
    "aws:ec2/natGateway:NatGateway": "outbound connections only",
    "aws:ec2/route:Route": "routing; exposure is decided by security groups",
    "aws:ec2/routeTable:RouteTable": "routing; exposure is decided by security groups",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "routing",
    "aws:ec2/subnet:Subnet": "placement; a public IP on launch admits nothing the security "
    "groups do not",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "how long images are kept",
    "aws:elasticache/subnetGroup:SubnetGroup": "placement",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "a trust anchor; the trust "
    "policies that name it are checked (iam-irsa-trust-pinned, iam-github-oidc-trust-pinned)",
    "aws:kms/alias:Alias": "a name for a key",
    "aws:rds/subnetGroup:SubnetGroup": "placement",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "how long objects are kept",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "ACL ownership; public ACL "
    "grants are checked (s3-no-public-acl)",
    "aws:secretsmanager/secretVersion:SecretVersion": "a secret's value",
    "random:index/randomPassword:RandomPassword": "generates a secret",
    "kubernetes:core/v1:LimitRange": "limits (it only constrains pods)",
}

# Known and not yet governed: what each sets that should be checked.
KNOWN_GAPS: dict[str, str] = {
    "aws:ec2/vpcEndpoint:VpcEndpoint": "the endpoint policy (AWS's default allows all)",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "grants to other principals (public pull)",
    "aws:eks/accessEntry:AccessEntry": "who may authenticate to the cluster",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "cluster-admin access policies",
    "aws:rds/parameterGroup:ParameterGroup": "TLS-only connections (require_secure_transport, "
    "rds.force_ssl)",
}


def known_types() -> frozenset[str]:
    """Every type the pack knows (read by a rule, reviewed, or a known gap)."""
    read = set(REVIEWED) | set(KNOWN_GAPS)
    for types in (*TYPES_READ.values(), *READ_BY_STACK_RULES.values()):
        read.update(types)
    return frozenset(read)


_KNOWN: list[frozenset[str]] = []  # computed once every rule module has registered


def _check_known(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type.startswith("pulumi:providers:"):
        return  # a provider's settings
    if args.provider is None and args.resource_type.split(":", 1)[0] not in PROVIDER_PACKAGES:
        return  # a component: its children are checked
    if not _KNOWN:
        _KNOWN.append(known_types())
    if args.resource_type not in _KNOWN[0]:
        report(
            f"The pack does not know the resource type {args.resource_type}: no rule "
            "reads it, so nothing it sets is checked. Review it: a rule for it, or an "
            "entry in policies/rules/coverage.py saying why it carries nothing to govern.",
            None,
        )


POLICIES: list[Policy] = [
    resource_policy(
        "resource-type-known",
        "Every resource is of a type the pack checks or has reviewed (never silently unchecked).",
        None,
        _check_known,
        remediation="Use a type the pack knows, or add a rule (or a reviewed entry) for it "
        "to the pack in a change of its own.",
    ),
]
