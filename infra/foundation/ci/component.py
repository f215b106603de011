"""CiIdentity: the IAM role GitHub Actions assumes for one stack.

Trust goes through GitHub's OIDC provider (no long-lived keys) and admits exactly one
subject with ``StringEquals``: the one the stack's deploy jobs present under the
repository's declared subject template (`CiConfig.subject`), and only for the audience
``sts.amazonaws.com``. A pattern is never trusted: ``repo:<org>/<repo>:*`` admits every
branch, pull request and environment of the repository.

What the role may do is handed in by the slice (infra/foundation/ci/permissions.py): with
the in-VPC runner only starting a deploy (upload the checkout, start and watch the build),
without it the deploy policy itself; plus pushing images to the stack's repositories
(.github/workflows/image.yml). Never an AWS administrator-level policy, and the role
carries the deployer permissions boundary (infra/foundation/ci/boundary.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.foundation.ci.config import CiConfig
from infra.foundation.ci.permissions import push_policy
from infra.foundation.ci.subject import AUDIENCE, ISSUER

GITHUB_ISSUER = ISSUER
STS_AUDIENCE = AUDIENCE


def github_trust_policy(*, provider_arn: str, subject: str) -> str:
    """Trust for GitHub's OIDC provider: exactly ``subject``, audience sts.amazonaws.com."""
    if any(c in subject for c in "*?"):
        raise ValueError(f"subject {subject!r} is a pattern: the trust pins one subject")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActions",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_ISSUER}:aud": STS_AUDIENCE,
                        f"{GITHUB_ISSUER}:sub": subject,
                    }
                },
            }
        ],
    }
    return json.dumps(document, sort_keys=True)


def attach_managed_policies(
    name: str,
    role: aws.iam.Role,
    policies: Mapping[str, pulumi.Input[str]],
    *,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> list[pulumi.Resource]:
    """Customer-managed policies ``policies`` (name -> document) attached to ``role``:
    for documents larger than a role's inline policies may hold together (10,240 chars)."""
    made: list[pulumi.Resource] = []
    for policy_name, document in sorted(policies.items()):
        policy = aws.iam.Policy(
            f"{name}-{policy_name}",
            name=policy_name,
            policy=document,
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        made.append(
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy_name}",
                role=role.name,
                policy_arn=policy.arn,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        )
    return made


@dataclass(frozen=True, kw_only=True)
class CiIdentityArgs:
    """Inputs of a CiIdentity.

    Attributes:
        config: The stack's ``ci`` section (repository, environment, branch, template).
        role_name: Name of the CI role (``<prefix>-<env>-github-actions``).
        account_id / partition: Where the role lives.
        permissions_boundary: The boundary the role carries (the deployer boundary).
        policies: Inline policies (name -> document).
        managed_policies: Customer-managed policies to create and attach (name -> document).
        repository_arns: ECR repositories the role may push to (image.yml).
        tags: Tags for every taggable child.
    """

    config: CiConfig
    role_name: str
    account_id: str
    partition: str = "aws"
    permissions_boundary: pulumi.Input[str] | None = None
    policies: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    managed_policies: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    repository_arns: Sequence[str] = ()
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
        return self.config.subject


class CiIdentity(pulumi.ComponentResource):
    """GitHub Actions OIDC role pinned to one subject.

    Outputs:
        role_arn: ARN for ``aws-actions/configure-aws-credentials`` ``role-to-assume``.
        subject: The ``sub`` the trust policy admits.
    """

    role: aws.iam.Role
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
            description=f"GitHub Actions of {args.github_repository} ({args.subject})",
            max_session_duration=args.config.max_session_duration,
            permissions_boundary=args.permissions_boundary,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        inline = dict(args.policies)
        if args.repository_arns:
            inline["push-images"] = push_policy(args.repository_arns)
        for policy_name, document in sorted(inline.items()):
            aws.iam.RolePolicy(
                f"{name}-{policy_name}",
                name=policy_name,
                role=role.name,
                policy=document,
                opts=child,
            )
        attach_managed_policies(name, role, args.managed_policies, tags=tags, parent=self)
        self.role = role
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn, "subject": args.subject})
