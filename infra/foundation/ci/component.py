"""CiIdentity: the IAM role GitHub Actions assumes to preview and deploy this stack.

Trust goes through GitHub's OIDC provider (no long-lived keys) and is pinned to
one repository; config can pin further to a GitHub environment and a branch
(prod: the ``prod`` environment on ``main``). Pinning both needs the repository's
OIDC subject template to include ``repo``, ``context`` and ``ref`` (GitHub's
customization API), which yields ``repo:<org>/<repo>:environment:<env>:ref:refs/heads/<branch>``.

Permissions: AWS's PowerUserAccess (everything but IAM and Organizations), IAM
only on this stack's own roles and policies (name prefix) and never on itself,
and push to this stack's ECR repositories.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.foundation.ci.config import CiConfig

GITHUB_ISSUER = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
_SERVICE_LINKED = [
    "autoscaling.amazonaws.com",
    "eks.amazonaws.com",
    "eks-nodegroup.amazonaws.com",
    "elasticache.amazonaws.com",
    "rds.amazonaws.com",
]


def github_subject(
    repository: str, environment: str | None = None, branch: str | None = None
) -> str:
    """The ``sub`` claim the trust policy accepts (a pattern only when nothing is pinned)."""
    sub = f"repo:{repository}"
    if environment:
        sub += f":environment:{environment}"
    if branch:
        sub += f":ref:refs/heads/{branch}"
    if not environment and not branch:
        sub += ":*"
    return sub


def github_trust_policy(*, provider_arn: str, subject: str) -> str:
    operator = "StringLike" if "*" in subject else "StringEquals"
    conditions: dict[str, dict[str, str]] = {"StringEquals": {f"{GITHUB_ISSUER}:aud": STS_AUDIENCE}}
    conditions.setdefault(operator, {})[f"{GITHUB_ISSUER}:sub"] = subject
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActions",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": conditions,
            }
        ],
    }
    return json.dumps(document, sort_keys=True)


@dataclass(frozen=True, kw_only=True)
class CiIdentityArgs:
    """Inputs of a CiIdentity.

    Attributes:
        config: The stack's ``ci`` section (repository, environment, branch, provider).
        role_name: Name of the CI role (``<prefix>-<env>-github-actions``).
        name_prefix: Prefix of the stack's IAM roles/policies the role may manage.
        repository_arns: ECR repositories the role may push to.
        account_id: AWS account.
        partition: AWS partition.
        tags: Tags for every taggable child.
    """

    config: CiConfig
    role_name: str
    name_prefix: str
    account_id: str
    repository_arns: Sequence[str] = ()
    partition: str = "aws"
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.config.github_repository:
            raise ValueError("a CI identity needs config.github_repository")

    @property
    def github_repository(self) -> str:
        return str(self.config.github_repository)

    @property
    def provider_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:oidc-provider/{GITHUB_ISSUER}"

    @property
    def role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.role_name}"

    @property
    def subject(self) -> str:
        return github_subject(self.github_repository, self.config.environment, self.config.branch)


def deploy_policy(args: CiIdentityArgs) -> str:
    """IAM on this stack's own roles/policies, never on the CI role; push to its repos."""
    p, acct = args.partition, args.account_id
    own_roles = f"arn:{p}:iam::{acct}:role/{args.name_prefix}-*"
    own_policies = f"arn:{p}:iam::{acct}:policy/{args.name_prefix}-*"
    statements: list[dict[str, object]] = [
        {
            "Sid": "ManageStackRoles",
            "Effect": "Allow",
            "Action": [
                "iam:AttachRolePolicy",
                "iam:CreatePolicy",
                "iam:CreatePolicyVersion",
                "iam:CreateRole",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:Get*",
                "iam:List*",
                "iam:PassRole",
                "iam:PutRolePolicy",
                "iam:TagPolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
            ],
            "Resource": [own_roles, own_policies],
        },
        {
            "Sid": "ManageOidcProviders",
            "Effect": "Allow",
            "Action": [
                "iam:CreateOpenIDConnectProvider",
                "iam:DeleteOpenIDConnectProvider",
                "iam:GetOpenIDConnectProvider",
                "iam:TagOpenIDConnectProvider",
                "iam:UpdateOpenIDConnectProviderThumbprint",
            ],
            "Resource": f"arn:{p}:iam::{acct}:oidc-provider/*",
        },
        {
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": _SERVICE_LINKED}},
        },
        {
            "Sid": "NeverItself",
            "Effect": "Deny",
            "Action": [
                "iam:AttachRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePolicy",
                "iam:UpdateAssumeRolePolicy",
            ],
            "Resource": args.role_arn,
        },
        {
            "Sid": "EcrLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
    ]
    if args.repository_arns:
        statements.append(
            {
                "Sid": "PushImages",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:UploadLayerPart",
                ],
                "Resource": sorted(args.repository_arns),
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class CiIdentity(pulumi.ComponentResource):
    """GitHub Actions OIDC role pinned to the repository (and environment/branch).

    Outputs:
        role_arn: ARN for ``aws-actions/configure-aws-credentials`` ``role-to-assume``.
        subject: The ``sub`` the trust policy accepts.
    """

    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: CiIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:ci:CiIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        depends: list[pulumi.Resource] = []
        if args.config.create_oidc_provider:
            depends.append(
                aws.iam.OpenIdConnectProvider(
                    f"{name}-github",
                    url=f"https://{GITHUB_ISSUER}",
                    client_id_lists=[STS_AUDIENCE],
                    tags=tags,
                    opts=child,
                )
            )
        role = aws.iam.Role(
            name,
            name=args.role_name,
            assume_role_policy=github_trust_policy(
                provider_arn=args.provider_arn, subject=args.subject
            ),
            description=f"GitHub Actions in {args.github_repository} ({args.subject})",
            max_session_duration=3600,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-power-user",
            role=role.name,
            policy_arn=f"arn:{args.partition}:iam::aws:policy/PowerUserAccess",
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-deploy",
            name="deploy-stack",
            role=role.name,
            policy=deploy_policy(args),
            opts=child,
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn, "subject": args.subject})
