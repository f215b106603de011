"""What the stack's deployer may do, and the permissions boundaries that cap every role.

The deployer is the identity that runs ``pulumi up`` for CI: the deploy runner's role
(``<base>-deployer``, CodeBuild in the VPC) or, without a runner, the GitHub Actions role
itself. It gets `deploy_policy`, not AWS's PowerUserAccess:

* only the services whose resources the stack manages (`SERVICE_OF_MODULE`: the AWS
  resource modules of the plans, each mapped to its IAM service; a test derives the
  modules from every environment's plan and checks this table both ways);
* writes only on the stack's own names (``<base>-*`` ARNs) where the service's ARNs carry
  names, and where they carry generated ids (EC2, KMS keys) only on resources tagged
  with the stack's environment, or untagged (EC2 authorizes a create against its
  parent VPC too, so the tag condition is ``IfExists``);
* IAM only for roles that carry the workload boundary: ``iam:CreateRole``,
  ``PutRolePermissionsBoundary``, ``AttachRolePolicy``, ``PutRolePolicy`` (and their
  undo) are conditioned on ``iam:PermissionsBoundary`` = ``<base>-boundary``, so
  every role the deployer can create or grant to is capped by it; the deployer may
  not change or delete a boundary policy, remove a boundary, touch its own roles, or
  attach an administrator-level AWS policy (explicit denies).

Every role the stack creates carries a boundary (`infra/foundation/ci/boundary.py`):
workload roles ``<base>-boundary`` (the services workloads use, no IAM writes, no
CodeBuild), the deployer roles ``<base>-deployer-boundary`` (the deploy services, the
same denies as the deploy policy). See docs/adr/0004-ci-role-and-permissions-boundary.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# The AWS resource modules (aws:<module>/...) of the plans -> the IAM service managing them.
SERVICE_OF_MODULE = {
    "cloudwatch": "logs",
    "codebuild": "codebuild",
    "dynamodb": "dynamodb",
    "ec2": "ec2",
    "ecr": "ecr",
    "eks": "eks",
    "elasticache": "elasticache",
    "iam": "iam",
    "kms": "kms",
    "rds": "rds",
    "s3": "s3",
    "secretsmanager": "secretsmanager",
    "vpc": "ec2",  # aws:vpc/securityGroupIngressRule and friends are EC2 API calls
}
DEPLOY_SERVICES = tuple(sorted(set(SERVICE_OF_MODULE.values())))
# What the platform's workload roles use (their inline policies and the AWS-managed
# policies of EKS, its nodes, the VPC CNI and the EBS CSI driver, the flow-log role);
# a test evaluates every action of every workload role of the plans against the boundary.
WORKLOAD_SERVICES = (
    "autoscaling",
    "dynamodb",
    "ec2",
    "ecr",
    "eks",
    "eks-auth",
    "elasticache",
    "elasticloadbalancing",
    "kms",
    "logs",
    "s3",
    "secretsmanager",
)
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
BOUNDARY_PATH = "/boundary/"
# IAM writes (everything but reads and iam:CreateServiceLinkedRole, which only creates
# the roles AWS defines for its services)
IAM_WRITES = [
    "iam:Add*",
    "iam:Attach*",
    "iam:Change*",
    "iam:CreateAccessKey",
    "iam:CreateGroup",
    "iam:CreateInstanceProfile",
    "iam:CreateLoginProfile",
    "iam:CreateOpenIDConnectProvider",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:CreateRole",
    "iam:CreateSAMLProvider",
    "iam:CreateServiceSpecificCredential",
    "iam:CreateUser",
    "iam:CreateVirtualMFADevice",
    "iam:Deactivate*",
    "iam:Delete*",
    "iam:Detach*",
    "iam:Enable*",
    "iam:PassRole",
    "iam:Put*",
    "iam:Remove*",
    "iam:Reset*",
    "iam:Resync*",
    "iam:Set*",
    "iam:Tag*",
    "iam:Untag*",
    "iam:Update*",
    "iam:Upload*",
]
# roles a deploy passes to AWS services (cluster, nodes, flow logs, the runner)
PASSED_TO = [
    "codebuild.amazonaws.com",
    "ec2.amazonaws.com",
    "eks.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
]
DEPLOY_PREFIX = "deploy"  # <artifact bucket>/deploy/<env>/: the checkouts CI uploads


@dataclass(frozen=True, kw_only=True)
class DeployScope:
    """The names one stack owns.

    Attributes:
        base: ``<prefix>-<env>``, the start of the stack's names.
        environment: The stack; every taggable resource carries ``environment=<env>``.
        account_id / region / partition: Where the stack lives.
        tables: DynamoDB tables of the online store (their names are Feast's, not ours).
    """

    base: str
    environment: str
    account_id: str
    region: str
    partition: str = "aws"
    tables: Sequence[str] = ()

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def role_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{name}"

    def policy_arn(self, name: str, path: str = "/") -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:policy{path}{name}"

    @property
    def ci_role_name(self) -> str:
        return f"{self.base}-github-actions"

    @property
    def runner_name(self) -> str:
        """The runner's CodeBuild project, its role and security group."""
        return f"{self.base}-deployer"

    @property
    def deployer_role_names(self) -> tuple[str, ...]:
        """Roles that deploy or start deploys: the deployer may never change them."""
        return (self.ci_role_name, self.runner_name)

    @property
    def workload_boundary_arn(self) -> str:
        return self.policy_arn(f"{self.base}-boundary", BOUNDARY_PATH)

    @property
    def deployer_boundary_arn(self) -> str:
        return self.policy_arn(f"{self.base}-deployer-boundary", BOUNDARY_PATH)

    @property
    def artifact_bucket(self) -> str:
        """The artifact store's bucket (infra/services/artifact_store/slice.py names it;
        a test checks the two agree)."""
        return f"{self.base}-artifacts-{self.account_id}"

    @property
    def state_bucket(self) -> str:
        """The bucket of the stack's Pulumi state with an S3 backend (docs/deploy.md); a
        person creates it before the first ``pulumi up``, the stack never does."""
        return f"{self.base}-pulumi-state-{self.account_id}"

    @property
    def source_prefix(self) -> str:
        return f"{DEPLOY_PREFIX}/{self.environment}"

    @property
    def project_arn(self) -> str:
        return self.arn("codebuild", f"project/{self.runner_name}")

    @property
    def log_group(self) -> str:
        return f"/aws/codebuild/{self.runner_name}"


def _doc(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def guard_statements(s: DeployScope) -> list[dict[str, Any]]:
    """The denies both the deploy policy and the deployer's boundary carry."""
    p, acct = s.partition, s.account_id
    role_writes = [
        "iam:AttachRolePolicy",
        "iam:DeleteRole",
        "iam:DeleteRolePermissionsBoundary",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:PutRolePolicy",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:UpdateRole",
        "iam:UpdateRoleDescription",
    ]
    return [
        {
            "Sid": "NeverTheBoundaries",
            "Effect": "Deny",
            "Action": [
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:SetDefaultPolicyVersion",
                "iam:TagPolicy",
                "iam:UntagPolicy",
            ],
            "Resource": f"arn:{p}:iam::{acct}:policy{BOUNDARY_PATH}*",
        },
        {
            "Sid": "NeverItsOwnPolicies",
            "Effect": "Deny",
            "Action": [
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:SetDefaultPolicyVersion",
            ],
            "Resource": f"arn:{p}:iam::{acct}:policy/{s.base}-deploy-*",
        },
        {
            "Sid": "NeverRemoveABoundary",
            "Effect": "Deny",
            "Action": ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"],
            "Resource": "*",
        },
        {
            "Sid": "OnlyTheWorkloadBoundary",
            "Effect": "Deny",
            "Action": [
                "iam:CreateRole",
                "iam:CreateUser",
                "iam:PutRolePermissionsBoundary",
                "iam:PutUserPermissionsBoundary",
            ],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": s.workload_boundary_arn}},
        },
        {
            "Sid": "NeverItself",
            "Effect": "Deny",
            "Action": role_writes,
            "Resource": sorted(s.role_arn(n) for n in s.deployer_role_names),
        },
        {
            "Sid": "NoAdministratorPolicies",
            "Effect": "Deny",
            "Action": ["iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "iam:PolicyARN": [f"arn:{p}:iam::aws:policy/{n}" for n in ADMIN_POLICIES]
                }
            },
        },
    ]


# EC2 calls that create a resource, with the type of what they create (tagged on create).
# Each gets a statement of its own on that type only: aws:RequestTag is a key of the whole
# request, so a statement naming the type of another call's parent (CreateVpc's vpc/* for
# CreateSubnet) would let that call use any parent, the stack's or not.
NETWORK_CREATES = {
    "ec2:AllocateAddress": "elastic-ip",
    "ec2:AuthorizeSecurityGroupEgress": "security-group-rule",
    "ec2:AuthorizeSecurityGroupIngress": "security-group-rule",
    "ec2:CreateFlowLogs": "vpc-flow-log",
    "ec2:CreateInternetGateway": "internet-gateway",
    "ec2:CreateLaunchTemplate": "launch-template",
    "ec2:CreateNatGateway": "natgateway",
    "ec2:CreateNetworkInterface": "network-interface",
    "ec2:CreateRouteTable": "route-table",
    "ec2:CreateSecurityGroup": "security-group",
    "ec2:CreateSubnet": "subnet",
    "ec2:CreateVpc": "vpc",
    "ec2:CreateVpcEndpoint": "vpc-endpoint",
}
# EC2 calls on resources that exist (the stack's, by their environment tag)
NETWORK_CHANGES = [
    "ec2:AssociateRouteTable",
    "ec2:AttachInternetGateway",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateFlowLogs",
    "ec2:CreateLaunchTemplateVersion",
    "ec2:CreateNatGateway",
    "ec2:CreateNetworkInterface",
    "ec2:CreateRoute",
    "ec2:CreateRouteTable",
    "ec2:CreateSecurityGroup",
    "ec2:CreateSubnet",
    "ec2:CreateTags",
    "ec2:CreateVpcEndpoint",
    "ec2:DeleteFlowLogs",
    "ec2:DeleteInternetGateway",
    "ec2:DeleteLaunchTemplate",
    "ec2:DeleteNatGateway",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteRoute",
    "ec2:DeleteRouteTable",
    "ec2:DeleteSecurityGroup",
    "ec2:DeleteSubnet",
    "ec2:DeleteTags",
    "ec2:DeleteVpc",
    "ec2:DeleteVpcEndpoints",
    "ec2:DetachInternetGateway",
    "ec2:DisassociateAddress",
    "ec2:DisassociateRouteTable",
    "ec2:ModifyLaunchTemplate",
    "ec2:ModifySecurityGroupRules",
    "ec2:ModifySubnetAttribute",
    "ec2:ModifyVpcAttribute",
    "ec2:ModifyVpcEndpoint",
    "ec2:ReleaseAddress",
    "ec2:ReplaceRoute",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
]
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"


def _create_sid(kind: str) -> str:
    return f"NetworkCreate{kind.title().replace('-', '')}"


def deploy_statements(s: DeployScope) -> list[dict[str, Any]]:
    """Everything ``pulumi up`` of this stack does, on this stack's resources only."""
    base, env = s.base, s.environment
    statements: list[dict[str, Any]] = [
        {
            # reads AWS offers only on "*" (lists, and Describe calls without resource types)
            "Sid": "Read",
            "Effect": "Allow",
            "Action": [
                "ec2:Describe*",
                "ecr:DescribeRegistry",
                "ecr:GetAuthorizationToken",
                "eks:DescribeAddonVersions",
                "eks:ListAccessEntries",
                "eks:ListAccessPolicies",
                "eks:ListAddons",
                "eks:ListAssociatedAccessPolicies",
                "eks:ListClusters",
                "eks:ListNodegroups",
                "elasticache:Describe*",
                "iam:List*",
                "kms:ListAliases",
                "kms:ListResourceTags",
                "logs:Describe*",
                "logs:ListTagsForResource",
                "logs:ListTagsLogGroup",
                "rds:Describe*",
                "s3:ListAllMyBuckets",
                "secretsmanager:ListSecrets",
                "sts:GetCallerIdentity",
            ],
            "Resource": "*",
        },
        {
            # reads of this stack's own resources, by the names the stack gives them
            "Sid": "ReadOwn",
            "Effect": "Allow",
            "Action": [
                "codebuild:BatchGetProjects",
                "ecr:DescribeImageScanFindings",
                "ecr:DescribeRepositories",
                "ecr:GetLifecyclePolicy",
                "ecr:GetRepositoryPolicy",
                "ecr:ListTagsForResource",
                "eks:DescribeAccessEntry",
                "eks:DescribeAddon",
                "eks:DescribeCluster",
                "eks:DescribeNodegroup",
                "eks:ListTagsForResource",
                "elasticache:ListTagsForResource",
                "iam:GetOpenIDConnectProvider",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "rds:ListTagsForResource",
            ],
            "Resource": [
                s.arn("codebuild", f"project/{base}-*"),
                s.arn("ecr", f"repository/{base}/*"),
                s.arn("eks", f"cluster/{base}"),
                s.arn("eks", f"nodegroup/{base}/*"),
                s.arn("eks", f"addon/{base}/*"),
                s.arn("eks", f"access-entry/{base}/*"),
                s.arn("elasticache", f"replicationgroup:{base}-*"),
                s.arn("elasticache", f"subnetgroup:{base}-*"),
                s.arn("rds", f"db:{base}-*"),
                s.arn("rds", f"pg:{base}-*"),
                s.arn("rds", f"subgrp:{base}-*"),
                f"arn:{s.partition}:iam::{s.account_id}:role/{base}-*",
                f"arn:{s.partition}:iam::{s.account_id}:policy/{base}-*",
                f"arn:{s.partition}:iam::{s.account_id}:policy{BOUNDARY_PATH}{base}-*",
                f"arn:{s.partition}:iam::{s.account_id}:oidc-provider/{GITHUB_OIDC_HOST}",
                f"arn:{s.partition}:iam::{s.account_id}:oidc-provider/oidc.eks.{s.region}"
                ".amazonaws.com/id/*",
            ],
        },
        {
            # keys get generated ids: this stack's are the ones tagged with its environment
            "Sid": "ReadOwnKeys",
            "Effect": "Allow",
            "Action": ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"],
            "Resource": s.arn("kms", "key/*"),
            "Condition": {"StringEquals": {"aws:ResourceTag/environment": env}},
        },
        # EC2 ids are generated too: a create must tag what it makes with the stack's
        # environment (aws:RequestTag), every other call may only touch what carries it
        # (aws:ResourceTag, NetworkChange); a call on several resources (a subnet in a VPC)
        # needs each allowed by one of them
        *(
            {
                "Sid": _create_sid(kind),
                "Effect": "Allow",
                "Action": sorted(a for a, k in NETWORK_CREATES.items() if k == kind),
                "Resource": s.arn("ec2", f"{kind}/*"),
                "Condition": {"StringEquals": {"aws:RequestTag/environment": env}},
            }
            for kind in sorted(set(NETWORK_CREATES.values()))
        ),
        {
            # tags only as part of one of those creates, never on an existing resource
            # (tagging an untagged resource would bring it under NetworkChange)
            "Sid": "NetworkTagOnCreate",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/environment": env,
                    "ec2:CreateAction": [a.split(":", 1)[1] for a in NETWORK_CREATES],
                }
            },
        },
        {
            "Sid": "NetworkChange",
            "Effect": "Allow",
            "Action": NETWORK_CHANGES,
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/environment": env}},
        },
        {
            "Sid": "Cluster",
            "Effect": "Allow",
            "Action": [
                "eks:AssociateAccessPolicy",
                "eks:CreateAccessEntry",
                "eks:CreateAddon",
                "eks:CreateCluster",
                "eks:CreateNodegroup",
                "eks:DeleteAccessEntry",
                "eks:DeleteAddon",
                "eks:DeleteCluster",
                "eks:DeleteNodegroup",
                "eks:DisassociateAccessPolicy",
                "eks:TagResource",
                "eks:UntagResource",
                "eks:UpdateAccessEntry",
                "eks:UpdateAddon",
                "eks:UpdateClusterConfig",
                "eks:UpdateClusterVersion",
                "eks:UpdateNodegroupConfig",
                "eks:UpdateNodegroupVersion",
            ],
            "Resource": [
                s.arn("eks", f"cluster/{base}"),
                s.arn("eks", f"nodegroup/{base}/*"),
                s.arn("eks", f"addon/{base}/*"),
                s.arn("eks", f"access-entry/{base}/*"),
            ],
        },
        {
            "Sid": "Databases",
            "Effect": "Allow",
            "Action": [
                "rds:AddTagsToResource",
                "rds:CreateDBInstance",
                "rds:CreateDBParameterGroup",
                "rds:CreateDBSnapshot",
                "rds:CreateDBSubnetGroup",
                "rds:DeleteDBInstance",
                "rds:DeleteDBParameterGroup",
                "rds:DeleteDBSubnetGroup",
                "rds:ModifyDBInstance",
                "rds:ModifyDBParameterGroup",
                "rds:ModifyDBSubnetGroup",
                "rds:RebootDBInstance",
                "rds:RemoveTagsFromResource",
            ],
            "Resource": [
                s.arn("rds", f"db:{base}-*"),
                s.arn("rds", f"pg:{base}-*"),
                s.arn("rds", f"subgrp:{base}-*"),
                s.arn("rds", f"snapshot:{base}-*"),
                s.arn("rds", "og:default:*"),
                s.arn("rds", "pg:default.*"),
            ],
        },
        {
            "Sid": "Cache",
            "Effect": "Allow",
            "Action": [
                "elasticache:AddTagsToResource",
                "elasticache:CreateCacheSubnetGroup",
                "elasticache:CreateReplicationGroup",
                "elasticache:DeleteCacheSubnetGroup",
                "elasticache:DeleteReplicationGroup",
                "elasticache:ModifyCacheSubnetGroup",
                "elasticache:ModifyReplicationGroup",
                "elasticache:RemoveTagsFromResource",
            ],
            "Resource": [
                s.arn("elasticache", f"replicationgroup:{base}-*"),
                s.arn("elasticache", f"cluster:{base}-*"),
                s.arn("elasticache", f"subnetgroup:{base}-*"),
                s.arn("elasticache", f"snapshot:{base}-*"),
                s.arn("elasticache", "parametergroup:default.*"),
            ],
        },
        {
            "Sid": "Secrets",
            "Effect": "Allow",
            "Action": [
                "secretsmanager:CreateSecret",
                "secretsmanager:DeleteSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:RestoreSecret",
                "secretsmanager:TagResource",
                "secretsmanager:UntagResource",
                "secretsmanager:UpdateSecret",
            ],
            "Resource": [
                s.arn("secretsmanager", f"secret:{base}/*"),
                s.arn("secretsmanager", f"secret:{base}-*"),
            ],
        },
        {
            "Sid": "Buckets",
            "Effect": "Allow",
            "Action": [
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:DeleteBucketPolicy",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:GetAccelerateConfiguration",
                "s3:GetBucket*",
                "s3:GetEncryptionConfiguration",
                "s3:GetLifecycleConfiguration",
                "s3:GetReplicationConfiguration",
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:PutBucketLogging",
                "s3:PutBucketOwnershipControls",
                "s3:PutBucketPolicy",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketTagging",
                "s3:PutBucketVersioning",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
            ],
            "Resource": [f"arn:{s.partition}:s3:::{base}-*", f"arn:{s.partition}:s3:::{base}-*/*"],
        },
        {
            "Sid": "Registry",
            "Effect": "Allow",
            "Action": [
                "ecr:BatchDeleteImage",
                "ecr:CreateRepository",
                "ecr:DeleteLifecyclePolicy",
                "ecr:DeleteRepository",
                "ecr:DeleteRepositoryPolicy",
                "ecr:PutImageScanningConfiguration",
                "ecr:PutImageTagMutability",
                "ecr:PutLifecyclePolicy",
                "ecr:SetRepositoryPolicy",
                "ecr:TagResource",
                "ecr:UntagResource",
            ],
            "Resource": s.arn("ecr", f"repository/{base}/*"),
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": [
                "logs:AssociateKmsKey",
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:DeleteRetentionPolicy",
                "logs:DisassociateKmsKey",
                "logs:PutRetentionPolicy",
                "logs:TagLogGroup",
                "logs:TagResource",
                "logs:UntagLogGroup",
                "logs:UntagResource",
            ],
            "Resource": [
                s.arn("logs", f"log-group:/aws/eks/{base}/*"),
                s.arn("logs", f"log-group:/aws/vpc/{base}/*"),
                s.arn("logs", f"log-group:/aws/codebuild/{base}-*"),
            ],
        },
        {
            "Sid": "Builds",
            "Effect": "Allow",
            "Action": [
                "codebuild:CreateProject",
                "codebuild:DeleteProject",
                "codebuild:UpdateProject",
            ],
            "Resource": s.arn("codebuild", f"project/{base}-*"),
        },
        {
            "Sid": "CreateKeys",
            "Effect": "Allow",
            "Action": ["kms:CreateKey", "kms:TagResource"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/environment": env}},
        },
        {
            "Sid": "StackKeys",
            "Effect": "Allow",
            "Action": [
                "kms:CreateAlias",
                "kms:CreateGrant",
                "kms:Decrypt",
                "kms:DeleteAlias",
                "kms:DisableKeyRotation",
                "kms:EnableKeyRotation",
                "kms:Encrypt",
                "kms:GenerateDataKey",
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
                "kms:TagResource",
                "kms:UntagResource",
                "kms:UpdateAlias",
                "kms:UpdateKeyDescription",
            ],
            "Resource": s.arn("kms", "key/*"),
            "Condition": {"StringEquals": {"aws:ResourceTag/environment": env}},
        },
        {
            "Sid": "KeyAliases",
            "Effect": "Allow",
            "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            "Resource": s.arn("kms", f"alias/{base}-*"),
        },
        {
            "Sid": "BoundedRoles",
            "Effect": "Allow",
            "Action": [
                "iam:AttachRolePolicy",
                "iam:CreateRole",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:PutRolePolicy",
            ],
            "Resource": s.role_arn(f"{base}-*"),
            "Condition": {"StringEquals": {"iam:PermissionsBoundary": s.workload_boundary_arn}},
        },
        {
            # iam:PermissionsBoundary is not a key of these actions; NeverItself keeps
            # them off the deployer's own roles
            "Sid": "StackRoles",
            "Effect": "Allow",
            "Action": [
                "iam:DeleteRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
            ],
            "Resource": s.role_arn(f"{base}-*"),
        },
        {
            "Sid": "PassStackRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": s.role_arn(f"{base}-*"),
            "Condition": {"StringEquals": {"iam:PassedToService": PASSED_TO}},
        },
        {
            "Sid": "OidcProviders",
            "Effect": "Allow",
            "Action": [
                "iam:AddClientIDToOpenIDConnectProvider",
                "iam:CreateOpenIDConnectProvider",
                "iam:DeleteOpenIDConnectProvider",
                "iam:TagOpenIDConnectProvider",
                "iam:UntagOpenIDConnectProvider",
                "iam:UpdateOpenIDConnectProviderThumbprint",
            ],
            "Resource": [
                f"arn:{s.partition}:iam::{s.account_id}:oidc-provider/oidc.eks.{s.region}"
                ".amazonaws.com/id/*",
                f"arn:{s.partition}:iam::{s.account_id}:oidc-provider/"
                "token.actions.githubusercontent.com",
            ],
        },
        {
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "iam:AWSServiceName": [
                        "autoscaling.amazonaws.com",
                        "eks-nodegroup.amazonaws.com",
                        "eks.amazonaws.com",
                        "elasticache.amazonaws.com",
                        "rds.amazonaws.com",
                    ]
                }
            },
        },
    ]
    if s.tables:
        statements.append(
            {
                "Sid": "Tables",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:CreateTable",
                    "dynamodb:DeleteTable",
                    "dynamodb:DescribeContinuousBackups",
                    "dynamodb:DescribeTable",
                    "dynamodb:DescribeTimeToLive",
                    "dynamodb:ListTagsOfResource",
                    "dynamodb:TagResource",
                    "dynamodb:UntagResource",
                    "dynamodb:UpdateContinuousBackups",
                    "dynamodb:UpdateTable",
                    "dynamodb:UpdateTimeToLive",
                ],
                "Resource": sorted(s.arn("dynamodb", f"table/{t}") for t in s.tables),
            }
        )
    # Pulumi's own state, when the backend is S3 (docs/deploy.md): the stack's state bucket
    # `<base>-pulumi-state-<account>` (its bucket calls are in Buckets, on `<base>-*`); the
    # awskms secrets provider's key carries the stack's environment tag (StackKeys)
    statements.append(
        {
            "Sid": "PulumiState",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Resource": f"arn:{s.partition}:s3:::{s.state_bucket}/*",
        }
    )
    return statements + guard_statements(s)


# Which document of `deploy_policies` each statement goes to: together they exceed what
# one managed policy (6,144 characters) or a role's inline policies (10,240) may hold.
DEPLOY_PARTS = {
    "read": ("Read", "ReadOwn", "ReadOwnKeys"),
    "network": (
        *(_create_sid(kind) for kind in set(NETWORK_CREATES.values())),
        "NetworkTagOnCreate",
        "NetworkChange",
        "Cluster",
        "Logs",
        "Builds",
        "PulumiState",
    ),
    "data": (
        "Databases",
        "Cache",
        "Secrets",
        "Buckets",
        "Registry",
        "Tables",
        "CreateKeys",
        "StackKeys",
        "KeyAliases",
    ),
}
MANAGED_POLICY_LIMIT = 6144


# the parts of the deploy policy, each its own managed policy ``<base>-deploy-<part>``
DEPLOY_POLICY_PARTS = ("read", "network", "data", "identity")


def deploy_policies(s: DeployScope) -> dict[str, str]:
    """The deploy policy as managed policies ``<base>-deploy-<part>`` (part -> document);
    IAM and the denies are in ``identity``."""
    parts: dict[str, list[dict[str, Any]]] = {part: [] for part in DEPLOY_POLICY_PARTS}
    for st in deploy_statements(s):
        part = next((k for k, sids in DEPLOY_PARTS.items() if st["Sid"] in sids), "identity")
        parts[part].append(st)
    return {part: _doc(statements) for part, statements in parts.items()}


def managed_deploy_policies(s: DeployScope) -> dict[str, str]:
    """`deploy_policies` named as the customer-managed policies ``<base>-deploy-<part>``."""
    return {f"{s.base}-deploy-{part}": doc for part, doc in deploy_policies(s).items()}


def deploy_policy(s: DeployScope) -> str:
    """The whole deploy policy as one document (what `deploy_policies` splits)."""
    return _doc(deploy_statements(s))


def trigger_policy(s: DeployScope) -> str:
    """What GitHub Actions needs to deploy through the runner, and nothing more: upload
    the checkout under the stack's deploy prefix, start and watch the runner's build,
    read its log."""
    bucket = f"arn:{s.partition}:s3:::{s.artifact_bucket}"
    return _doc(
        [
            {
                "Sid": "UploadCheckout",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"{bucket}/{s.source_prefix}/*",
            },
            {
                # SSE-KMS: GenerateDataKey for the object; a multipart upload (the CLI's
                # above 8 MB) also needs Decrypt. Only through S3, only the bucket's key.
                "Sid": "EncryptCheckout",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": s.arn("kms", "key/*"),
                "Condition": {
                    "ForAnyValue:StringEquals": {
                        "kms:ResourceAliases": f"alias/{s.artifact_bucket}"
                    },
                    "StringEquals": {"kms:ViaService": f"s3.{s.region}.amazonaws.com"},
                },
            },
            {
                "Sid": "RunDeploy",
                "Effect": "Allow",
                "Action": ["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
                "Resource": s.project_arn,
            },
            {
                "Sid": "ReadDeployLog",
                "Effect": "Allow",
                "Action": "logs:GetLogEvents",
                "Resource": s.arn("logs", f"log-group:{s.log_group}:log-stream:*"),
            },
        ]
    )


def push_policy(repository_arns: Sequence[str]) -> str:
    """Push images (image.yml: push, wait for the scan, read findings, tag) to the repos."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "EcrLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
    ]
    if repository_arns:
        statements.append(
            {
                "Sid": "PushImages",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload",
                    "ecr:DescribeImageScanFindings",
                    "ecr:DescribeImages",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:UploadLayerPart",
                ],
                "Resource": sorted(repository_arns),
            }
        )
    return _doc(statements)


def workload_boundary(s: DeployScope) -> str:
    """The most any workload role of the stack may do: its services, no IAM writes (so no
    boundary removal), no CodeBuild (so never the deploy runner)."""
    return _doc(
        [
            {
                "Sid": "WorkloadServices",
                "Effect": "Allow",
                "Action": [f"{svc}:*" for svc in WORKLOAD_SERVICES],
                "Resource": "*",
            },
            {
                "Sid": "ReadIdentity",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateServiceLinkedRole",
                    "iam:Get*",
                    "iam:List*",
                    "sts:GetCallerIdentity",
                ],
                "Resource": "*",
            },
            {"Sid": "NoIamWrites", "Effect": "Deny", "Action": IAM_WRITES, "Resource": "*"},
        ]
    )


def deployer_boundary(s: DeployScope) -> str:
    """The most the deployer roles may do: the deploy services, with the deploy policy's
    denies (no boundary changes, no boundary removal, never themselves, no admin)."""
    actions = [f"{svc}:*" for svc in DEPLOY_SERVICES] + ["sts:GetCallerIdentity"]
    return _doc(
        [
            {"Sid": "DeployServices", "Effect": "Allow", "Action": actions, "Resource": "*"},
            *guard_statements(s),
        ]
    )
