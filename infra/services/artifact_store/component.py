"""ArtifactStore: the S3 bucket every platform service keeps its artifacts in.

Secure by default: SSE-KMS with a customer-managed, rotating key and bucket
keys; versioning; all four public-access blocks; object ownership enforced
(ACLs off); a bucket policy that denies any request not made over TLS; a
lifecycle that expires noncurrent versions and aborts stale multipart uploads.
Access logs go to a separate log bucket (SSE-S3, because S3 log delivery
cannot write to SSE-KMS buckets).

Policy documents are built from explicit names (bucket name, key alias), never
from resource outputs, so that they are known during `pulumi preview` and the
policy pack can check them as mandatory rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from infra.base.aws import rotating_key
from infra.base.aws_calls import Bucket
from infra.services.artifact_store.config import ArtifactStoreConfig

Access = Literal["read", "read-write"]

_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]
_WRITE_ACTIONS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]


@dataclass(frozen=True, kw_only=True)
class ArtifactStoreArgs:
    """Inputs of an ArtifactStore.

    Attributes:
        config: The stack's ``artifact_store`` section (lifecycle, logging, protection).
        bucket_name: Globally unique bucket name (3-63 chars, lowercase).
        account_id: AWS account that owns the bucket and key.
        region: AWS region of the bucket.
        partition: AWS partition (``aws``, ``aws-cn``, ``aws-us-gov``).
        tags: Tags applied to every taggable child.
    """

    config: ArtifactStoreConfig
    bucket_name: str
    account_id: str
    region: str
    partition: str = "aws"
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 3 <= len(self.log_bucket_name) <= 63:
            raise ValueError(
                f"bucket name {self.bucket_name!r} is too long: its log bucket "
                f"{self.log_bucket_name!r} must be at most 63 characters"
            )

    @property
    def log_bucket_name(self) -> str:
        return f"{self.bucket_name}-logs"

    @property
    def key_alias(self) -> str:
        return f"alias/{self.bucket_name}"


def tls_only_policy(bucket_arn: str, extra_statements: list[dict] | None = None) -> str:
    """Bucket policy JSON that denies every request not sent over TLS."""
    statements = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        *(extra_statements or []),
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def prefix_policy_document(
    *,
    bucket_name: str,
    prefix: str,
    access: Access,
    key_alias: str,
    region: str,
    account_id: str,
    partition: str = "aws",
    head_bucket: bool = False,
) -> str:
    """Least-privilege identity policy for one prefix of the bucket.

    The KMS statement names the key through ``kms:ResourceAliases`` so the
    document depends only on names known before anything is created. ``head_bucket``
    adds what a client that checks the bucket first (HeadBucket, e.g. KFP's API server
    and Feast's S3 registry) needs: ``s3:ListBucket`` with no ``s3:prefix`` condition,
    which also lets it list every key name of the bucket, so only for buckets (or roles)
    where that is acceptable.
    """
    if access not in ("read", "read-write"):
        raise ValueError(f"access must be 'read' or 'read-write', got {access!r}")
    clean = prefix.strip("/")
    if not clean or "*" in clean:
        raise ValueError(f"prefix must be a non-empty path without wildcards, got {prefix!r}")
    bucket_arn = f"arn:{partition}:s3:::{bucket_name}"
    object_actions = _READ_ACTIONS + (_WRITE_ACTIONS if access == "read-write" else [])
    kms_actions = ["kms:Decrypt"] + (
        ["kms:GenerateDataKey", "kms:Encrypt"] if access == "read-write" else []
    )
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListPrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [clean, f"{clean}/*"]}},
            },
            *(
                [
                    {
                        "Sid": "HeadBucket",
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": bucket_arn,
                    }
                ]
                if head_bucket
                else []
            ),
            {
                "Sid": "ObjectsUnderPrefix",
                "Effect": "Allow",
                "Action": object_actions,
                "Resource": f"{bucket_arn}/{clean}/*",
            },
            {
                "Sid": "UseBucketKey",
                "Effect": "Allow",
                "Action": kms_actions,
                "Resource": f"arn:{partition}:kms:{region}:{account_id}:key/*",
                "Condition": {
                    "ForAnyValue:StringEquals": {"kms:ResourceAliases": key_alias},
                    "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                },
            },
        ],
    }
    return json.dumps(document, sort_keys=True)


class ArtifactStore(pulumi.ComponentResource):
    """Versioned, KMS-encrypted, private S3 bucket for platform artifacts.

    Outputs:
        bucket_name: Name of the artifact bucket.
        bucket_arn: ARN of the artifact bucket.
        kms_key_arn: ARN of the customer-managed key encrypting it.
        log_bucket_name: Name of the access-log bucket, or ``None``.
    """

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ArtifactStoreArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlops:storage:ArtifactStore", name, None, opts)
        self._args = args
        tags = dict(args.tags)
        kept = pulumi.ResourceOptions(parent=self, protect=args.config.protect)

        self.key = rotating_key(
            name,
            alias=args.key_alias,
            description=f"Encrypts objects in s3://{args.bucket_name}",
            tags=tags,
            parent=self,
            protect=args.config.protect,
        )

        self.bucket = aws.s3.Bucket(
            name,
            bucket=args.bucket_name,
            force_destroy=args.config.force_destroy,
            tags=tags,
            opts=kept,
        )
        bucket_arn = f"arn:{args.partition}:s3:::{args.bucket_name}"
        versioning, public_access_block = self._secure_bucket(
            name, self.bucket, sse_key=self.key.arn
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=tls_only_policy(bucket_arn),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block]),
        )
        transition = args.config.transition
        transitions = (
            [
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=transition.days, storage_class=transition.storage_class
                )
            ]
            if transition is not None
            else None
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.config.noncurrent_version_expiration_days
                    ),
                    transitions=transitions,
                ),
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-multipart-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=args.config.abort_incomplete_multipart_days
                    ),
                ),
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )

        self.log_bucket: aws.s3.Bucket | None = None
        if args.config.access_logging:
            self.log_bucket, delivery_policy = self._log_bucket(name)
            # S3 checks the target's delivery permission when logging is enabled.
            aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=self.bucket.id,
                target_bucket=self.log_bucket.id,
                target_prefix=f"s3/{args.bucket_name}/",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery_policy]),
            )

        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.kms_key_arn = self.key.arn
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "kms_key_arn": self.kms_key_arn,
                "log_bucket_name": self.log_bucket.bucket if self.log_bucket else None,
            }
        )

    @property
    def name(self) -> str:
        """The bucket's name, known before deployment."""
        return self._args.bucket_name

    @property
    def key_alias(self) -> str:
        return self._args.key_alias

    def uri(self, prefix: str) -> str:
        return f"s3://{self._args.bucket_name}/{prefix.strip('/')}"

    def policy_document(
        self, prefix: str, access: Access = "read", *, head_bucket: bool = False
    ) -> str:
        """Identity-policy JSON granting ``access`` to ``prefix`` of this bucket only
        (see `prefix_policy_document` for ``head_bucket``)."""
        a = self._args
        return prefix_policy_document(
            bucket_name=a.bucket_name,
            prefix=prefix,
            access=access,
            key_alias=a.key_alias,
            region=a.region,
            account_id=a.account_id,
            partition=a.partition,
            head_bucket=head_bucket,
        )

    @property
    def calls(self) -> Bucket:
        """This bucket as the AWS calls a client makes on it (`infra.base.aws_calls`)."""
        a = self._args
        return Bucket(a.bucket_name, a.key_alias, a.region, a.account_id, a.partition)

    def _secure_bucket(
        self, name: str, bucket: aws.s3.Bucket, *, sse_key: pulumi.Input[str] | None
    ) -> tuple[aws.s3.BucketVersioning, aws.s3.BucketPublicAccessBlock]:
        """Companions every bucket gets: versioning, encryption, no public access, no ACLs."""
        child = pulumi.ResourceOptions(parent=self)
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        by_default = (
            aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
        )
        default = (
            by_default(sse_algorithm="aws:kms", kms_master_key_id=sse_key)
            if sse_key is not None
            else by_default(sse_algorithm="AES256")
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=default,
                    bucket_key_enabled=sse_key is not None,
                )
            ],
            opts=child,
        )
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        return versioning, public_access_block

    def _log_bucket(self, name: str) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        a = self._args
        log_name = f"{name}-logs"
        log_arn = f"arn:{a.partition}:s3:::{a.log_bucket_name}"
        log_bucket = aws.s3.Bucket(
            log_name,
            bucket=a.log_bucket_name,
            force_destroy=a.config.force_destroy,
            tags={**a.tags, "purpose": "s3-access-logs"},
            opts=pulumi.ResourceOptions(parent=self, protect=a.config.protect),
        )
        _, public_access_block = self._secure_bucket(log_name, log_bucket, sse_key=None)
        delivery = {
            "Sid": "S3ServerAccessLogsDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{log_arn}/s3/{a.bucket_name}/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:{a.partition}:s3:::{a.bucket_name}"},
                "StringEquals": {"aws:SourceAccount": a.account_id},
            },
        }
        delivery_policy = aws.s3.BucketPolicy(
            f"{log_name}-policy",
            bucket=log_bucket.id,
            policy=tls_only_policy(log_arn, [delivery]),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{log_name}-lifecycle",
            bucket=log_bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=a.config.access_log_retention_days
                    ),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=1
                    ),
                    # S3 delivers logs in single PUTs, but anything else with write access
                    # could leave parts behind, billed until aborted
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=a.config.abort_incomplete_multipart_days
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return log_bucket, delivery_policy
