"""AWS's rules for the names the platform derives and for tags, as AWS states them.

Each rule is what the service's API refuses: the length and character set of botocore's
service models where they carry one (``tests/infra/test_naming.py`` checks the table
against them), else the constraints the API reference writes out (RDS, ElastiCache, S3,
EC2). Config validation applies them to every name the stack derives from its config
(``infra/config.py``), so a name AWS would refuse is reported at its config field before
anything is planned.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field


def _no_double_or_trailing_hyphen(name: str) -> str | None:
    if "--" in name:
        return "contains two consecutive hyphens"
    if name.endswith("-"):
        return "ends with a hyphen"
    return None


def _not_sg_prefixed(name: str) -> str | None:
    return "starts with 'sg-' (reserved for group ids)" if name.startswith("sg-") else None


def _not_aws_alias(name: str) -> str | None:
    return (
        "starts with 'alias/aws/' (reserved for AWS managed keys)"
        if name.startswith("alias/aws/")
        else None
    )


def _not_default(name: str) -> str | None:
    return "is 'default', which RDS reserves" if name.lower() == "default" else None


@dataclass(frozen=True)
class NameRule:
    """What one kind of AWS name must be: ``min_len..max_len`` characters, matching
    ``pattern`` in full, and passing ``extra``."""

    what: str
    min_len: int
    max_len: int
    pattern: str
    extra: Callable[[str], str | None] | None = field(default=None, compare=False)

    def problem(self, name: str) -> str | None:
        if not self.min_len <= len(name) <= self.max_len:
            return (
                f"is {len(name)} characters; AWS allows {self.min_len}-{self.max_len} for "
                f"the {self.what}"
            )
        # ASCII: botocore's patterns are Java's, where \w is [A-Za-z0-9_]
        if not re.fullmatch(self.pattern, name, re.ASCII):
            return f"is not a valid {self.what} (AWS allows {self.pattern})"
        if self.extra is not None and (why := self.extra(name)):
            return f"is not a valid {self.what}: it {why}"
        return None


def _letter_first(what: str, max_len: int) -> NameRule:
    return NameRule(what, 1, max_len, r"[A-Za-z][A-Za-z0-9-]*", _no_double_or_trailing_hyphen)


RULES: dict[str, NameRule] = {
    # botocore iam: roleNameType, policyNameType
    "iam-role": NameRule("IAM role name", 1, 64, r"[\w+=,.@-]+"),
    "iam-policy": NameRule("IAM policy name", 1, 128, r"[\w+=,.@-]+"),
    # botocore eks: ClusterName
    "eks-cluster": NameRule("EKS cluster name", 1, 100, r"^[0-9A-Za-z][A-Za-z0-9\-_]*"),
    # EC2 CreateLaunchTemplate: 3-128 of a-z A-Z 0-9 ( ) . - / _
    "launch-template": NameRule("launch template name", 3, 128, r"[a-zA-Z0-9().\-/_]+"),
    # EC2 CreateSecurityGroup (VPC): 255 of a-z A-Z 0-9, spaces and ._-:/()#,@[]+=&;{}!$*;
    # cannot start with sg-
    "security-group": NameRule(
        "security group name", 1, 255, r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+", _not_sg_prefixed
    ),
    # RDS CreateDBInstance: 1-63 letters, numbers or hyphens, a letter first, no trailing
    # hyphen, no two consecutive hyphens; parameter groups and the final snapshot's
    # identifier the same up to 255; ElastiCache replication groups the same up to 40
    "rds-instance": _letter_first("RDS DB instance identifier", 63),
    "rds-parameter-group": _letter_first("RDS parameter group name", 255),
    "rds-snapshot": _letter_first("RDS snapshot identifier", 255),
    "elasticache-replication-group": _letter_first("ElastiCache replication group id", 40),
    # RDS CreateDBSubnetGroup: up to 255 letters, numbers, periods, underscores, spaces or
    # hyphens; not "default"
    "rds-subnet-group": NameRule(
        "RDS DB subnet group name", 1, 255, r"[A-Za-z0-9._ -]+", _not_default
    ),
    # ElastiCache CreateCacheSubnetGroup: no more than 255 alphanumerics or hyphens
    "elasticache-subnet-group": NameRule("ElastiCache subnet group name", 1, 255, r"[A-Za-z0-9-]+"),
    # botocore kms: AliasNameType
    "kms-alias": NameRule("KMS alias", 1, 256, r"^[a-zA-Z0-9:/_-]+$", _not_aws_alias),
    # botocore secretsmanager: NameType (1-512); the API reference's character set
    "secret": NameRule("Secrets Manager secret name", 1, 512, r"[A-Za-z0-9/_+=.@-]+"),
    # botocore ecr: RepositoryName
    "ecr-repository": NameRule(
        "ECR repository name",
        2,
        256,
        r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*",
    ),
    # botocore codebuild: ProjectName
    "codebuild-project": NameRule(
        "CodeBuild project name", 2, 150, r"[A-Za-z0-9][A-Za-z0-9\-_]{1,149}"
    ),
    # botocore logs: LogGroupName
    "log-group": NameRule("CloudWatch log group name", 1, 512, r"[\.\-_/#A-Za-z0-9]+"),
}

# S3 general purpose bucket naming rules (docs.aws.amazon.com/AmazonS3/latest/userguide/
# bucketnamingrules.html): the prefixes and suffixes S3 reserves for its own names.
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_problem(name: str) -> str | None:
    """Why S3 would refuse ``name`` for a general purpose bucket, or None."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters; S3 bucket names are 3-63"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name):
        return (
            "is not a valid S3 bucket name (lowercase letters, digits, '.' and '-', "
            "beginning and ending with a letter or digit)"
        )
    if ".." in name:
        return "is not a valid S3 bucket name: it contains two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "is not a valid S3 bucket name: it is formatted as an IP address"
    for prefix in S3_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"is not a valid S3 bucket name: S3 reserves the prefix {prefix!r}"
    for suffix in S3_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"is not a valid S3 bucket name: S3 reserves the suffix {suffix!r}"
    return None


def describe(kind: str) -> str:
    """What a ``kind`` of name is called (``IAM role name``)."""
    return "S3 bucket name" if kind == "s3-bucket" else RULES[kind].what


def name_problem(kind: str, name: str) -> str | None:
    """Why AWS would refuse ``name`` as a ``kind`` (a key of RULES, or ``s3-bucket``)."""
    if kind == "s3-bucket":
        return bucket_problem(name)
    return RULES[kind].problem(name)


# ---------------------------------------------------------------- tags

# The tag rules every service the platform tags shares (botocore iam: tagKeyType,
# tagValueType; the same in RDS, EKS, ElastiCache...): keys 1-128 and values 0-256 Unicode
# letters, separators (white space) and numbers, and _ . : / = + - @
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAG_PUNCTUATION = frozenset("_.:/=+-@")
# `aws:` is AWS's own prefix (any case); RDS also refuses keys and values starting `rds:`
TAG_RESERVED_PREFIXES = ("aws:", "rds:")
# Tags per resource: 50 (every service the platform tags).
TAGS_PER_RESOURCE = 50


def _tag_chars(text: str) -> str | None:
    bad = sorted(
        {
            c
            for c in text
            if c not in TAG_PUNCTUATION and unicodedata.category(c)[0] not in ("L", "Z", "N")
        }
    )
    if bad:
        return "has characters AWS tags do not allow: " + " ".join(repr(c) for c in bad)
    return None


def tag_key_problem(key: str) -> str | None:
    """Why AWS would refuse ``key`` as a tag key, or None."""
    if not 1 <= len(key) <= TAG_KEY_MAX:
        return f"is {len(key)} characters; tag keys are 1-{TAG_KEY_MAX}"
    for prefix in TAG_RESERVED_PREFIXES:
        if key.lower().startswith(prefix):
            return f"starts with {prefix!r}, a prefix AWS reserves"
    return _tag_chars(key)


def tag_value_problem(value: str) -> str | None:
    """Why AWS would refuse ``value`` as a tag value, or None."""
    if len(value) > TAG_VALUE_MAX:
        return f"is {len(value)} characters; tag values are at most {TAG_VALUE_MAX}"
    for prefix in TAG_RESERVED_PREFIXES:
        if value.lower().startswith(prefix):
            return f"starts with {prefix!r}, a prefix AWS reserves"
    return _tag_chars(value)
