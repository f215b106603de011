"""Small building blocks the AWS components share (not components themselves)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def rotating_key(
    name: str,
    *,
    alias: str,
    description: str,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
    protect: bool = False,
    policy: pulumi.Input[str] | None = None,
) -> aws.kms.Key:
    """A customer-managed KMS key with yearly rotation and a 30-day deletion window, and
    its alias (`<name>-key`, `<name>-key-alias`), both children of ``parent``."""
    key = aws.kms.Key(
        f"{name}-key",
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=policy,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    aws.kms.Alias(
        f"{name}-key-alias",
        name=alias,
        target_key_id=key.key_id,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return key


def log_key_policy(
    *, account_id: str, region: str, partition: str, log_group_arn: str, sid: str
) -> str:
    """Key policy of a log group's key: the account administers it; CloudWatch Logs may
    use it for that one log group only (statement ``sid``)."""
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Decrypt*",
                    "kms:Describe*",
                    "kms:Encrypt*",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                ],
                "Resource": "*",
                "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
            },
        ],
    }
    return json.dumps(document, sort_keys=True)
