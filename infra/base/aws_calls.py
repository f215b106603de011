"""The AWS calls a workload's client makes, declared next to the identity that makes them.

Every service account the platform binds to an IAM role (IRSA) carries, in the annotation
`ANNOTATION`, the calls its workload makes first — as AWS authorizes them: HeadBucket is
``s3:ListBucket`` on the bucket with no ``s3:prefix`` in the request, a listing under a
prefix carries ``s3:prefix``, an object read of an SSE-KMS object also asks KMS to decrypt
through S3. The policy pack evaluates each call as that role, conditions included
(`workload-aws-access`), so a policy that cannot serve its workload fails the plan, not
the first deploy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

ANNOTATION = "mlops.platform/aws-calls"
Context = Mapping[str, str | bool | list[str]]


@dataclass(frozen=True)
class AwsCall:
    """One call: the IAM action AWS authorizes, its resource, the condition keys it carries
    (beyond ``aws:SecureTransport``, which every call over HTTPS carries) and why the
    client makes it."""

    action: str
    resource: str
    why: str
    context: Context = field(default_factory=dict)


def annotation(calls: Sequence[AwsCall]) -> dict[str, str]:
    return {ANNOTATION: json.dumps([asdict(c) for c in calls], sort_keys=True)}


@dataclass(frozen=True)
class Bucket:
    """An SSE-KMS bucket, by the names its policies use (known before deployment)."""

    name: str
    key_alias: str
    region: str
    account_id: str
    partition: str = "aws"

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.name}"

    def head(self, why: str) -> AwsCall:
        return AwsCall("s3:ListBucket", self.arn, f"HeadBucket: {why}")

    def list_under(self, prefix: str, why: str) -> AwsCall:
        return AwsCall("s3:ListBucket", self.arn, why, {"s3:prefix": f"{prefix.strip('/')}/"})

    def read(self, key: str, why: str) -> list[AwsCall]:
        return [
            AwsCall("s3:GetObject", f"{self.arn}/{key}", why),
            self._kms("kms:Decrypt", why),
        ]

    def write(self, key: str, why: str) -> list[AwsCall]:
        return [
            AwsCall("s3:PutObject", f"{self.arn}/{key}", why),
            self._kms("kms:GenerateDataKey", why),
        ]

    def _kms(self, action: str, why: str) -> AwsCall:
        # the key's id is known only once it exists; its alias is what the policies name
        key = f"arn:{self.partition}:kms:{self.region}:{self.account_id}:key/{self.key_alias}"
        return AwsCall(
            action,
            key,
            f"{why} (SSE-KMS)",
            {
                "kms:ViaService": f"s3.{self.region}.amazonaws.com",
                "kms:ResourceAliases": [self.key_alias],
            },
        )


def secret_value(arn: str, key_alias: str, region: str, why: str) -> list[AwsCall]:
    """Read a Secrets Manager secret encrypted with the customer key of ``key_alias``."""
    key = arn.split(":secret:")[0].replace(":secretsmanager:", ":kms:") + f":key/{key_alias}"
    return [
        AwsCall("secretsmanager:GetSecretValue", arn, why),
        AwsCall(
            "kms:Decrypt",
            key,
            f"{why} (the secret's key)",
            {
                "kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
                "kms:ResourceAliases": [key_alias],
            },
        ),
    ]
