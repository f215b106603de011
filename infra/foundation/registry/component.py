"""ContainerRegistry: ECR repositories for pipeline-component and serving images.

Every repository scans on push, has immutable tags (a tag always names the same
image, so a deployed model cannot change under you), is encrypted with a
customer key and expires untagged images. Its repository policy lets the node
role pull and denies every push not made by the CI role, so only reviewed CI
runs can publish images. Both roles are named by ARN strings built from their
names, so the policy is known before anything is created.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.base.aws import rotating_key
from infra.foundation.registry.config import RegistryConfig

PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]
PUSH_ACTIONS = [
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]


def repository_policy(*, puller_arns: Sequence[str], pusher_arn: str | None) -> str:
    """Pull for the given roles, push for one role, and no push for anyone else
    (nobody at all when there is no pusher)."""
    statements: list[dict[str, object]] = []
    if puller_arns:
        statements.append(
            {
                "Sid": "NodesPull",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(puller_arns)},
                "Action": PULL_ACTIONS,
            }
        )
    if pusher_arn:
        statements += [
            {
                "Sid": "CiPushes",
                "Effect": "Allow",
                "Principal": {"AWS": pusher_arn},
                "Action": PULL_ACTIONS + PUSH_ACTIONS,
            },
            {
                "Sid": "OnlyCiPushes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": PUSH_ACTIONS,
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": pusher_arn}},
            },
        ]
    else:
        statements.append(
            {"Sid": "NoPushes", "Effect": "Deny", "Principal": "*", "Action": PUSH_ACTIONS}
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def lifecycle_policy(untagged_expiry_days: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"expire untagged images after {untagged_expiry_days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": untagged_expiry_days,
                    },
                    "action": {"type": "expire"},
                }
            ]
        },
        sort_keys=True,
    )


@dataclass(frozen=True, kw_only=True)
class ContainerRegistryArgs:
    """Inputs of a ContainerRegistry.

    Attributes:
        config: The stack's ``registry`` section (repositories, expiry, force delete).
        prefix: Repository name prefix (``<prefix>-<env>``); repositories are ``<prefix>/<name>``.
        puller_arns: Roles allowed to pull (the node role).
        pusher_arn: The only role allowed to push (the CI role); ``None``: nobody pushes.
        principals: The roles behind those ARNs that this stack creates: ECR refuses a
            repository policy naming a principal that does not exist yet, and the ARNs are
            strings (known at preview), so the policies depend on the roles explicitly.
        account_id: AWS account.
        region: AWS region.
        partition: AWS partition.
        tags: Tags for every taggable child.
    """

    config: RegistryConfig
    prefix: str
    puller_arns: Sequence[str]
    pusher_arn: str | None
    account_id: str
    principals: Sequence[pulumi.Resource] = ()
    region: str
    partition: str = "aws"
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def repositories(self) -> list[str]:
        return list(self.config.repositories)

    def repository_arns(self) -> list[str]:
        return [
            f"arn:{self.partition}:ecr:{self.region}:{self.account_id}:repository/{self.prefix}/{r}"
            for r in self.repositories
        ]


class ContainerRegistry(pulumi.ComponentResource):
    """Scanned, immutable, KMS-encrypted ECR repositories.

    Outputs:
        repository_urls: Short name -> repository URL.
        kms_key_arn: Key encrypting the images.
    """

    repository_urls: pulumi.Output[dict[str, str]]
    kms_key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:registry:ContainerRegistry", name, None, opts)
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        key = rotating_key(
            name,
            alias=f"alias/{args.prefix}-ecr",
            description=f"Encrypts images in {args.prefix}/*",
            tags=tags,
            parent=self,
        )
        policy = repository_policy(puller_arns=args.puller_arns, pusher_arn=args.pusher_arn)
        urls: dict[str, pulumi.Output[str]] = {}
        for short in args.repositories:
            res = f"{name}-{short.replace('/', '-')}"
            repo = aws.ecr.Repository(
                res,
                name=f"{args.prefix}/{short}",
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(
                        encryption_type="KMS", kms_key=key.arn
                    )
                ],
                force_delete=args.config.force_delete,
                tags=tags,
                opts=child,
            )
            aws.ecr.LifecyclePolicy(
                f"{res}-lifecycle",
                repository=repo.name,
                policy=lifecycle_policy(args.config.untagged_expiry_days),
                opts=child,
            )
            aws.ecr.RepositoryPolicy(
                f"{res}-policy",
                repository=repo.name,
                policy=policy,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.principals)),
            )
            urls[short] = repo.repository_url
        self.repository_urls = pulumi.Output.all(**urls)
        self.kms_key_arn = key.arn
        self.register_outputs(
            {"repository_urls": self.repository_urls, "kms_key_arn": self.kms_key_arn}
        )

    @property
    def repository_arns(self) -> list[str]:
        return self._args.repository_arns()
