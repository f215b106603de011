"""Storage rules: S3 buckets with their companions, bucket ACLs/policies, ECR, KMS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import find, messages, mutated, res, unseen

STORE = res("mlops:storage:ArtifactStore", "artifacts", {})
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/abcd"


def tls_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def bucket_stack(
    name: str = "data", bucket: str = "acme-data", *, log: bool = False, by_value: bool = False
) -> list[dict[str, Any]]:
    """A bucket with every companion the storage rules ask for."""
    tags = {"purpose": "s3-access-logs"} if log else {}
    b = res("aws:s3/bucket:Bucket", name, {"bucket": bucket, "tags": tags}, parent=STORE)
    dep = {} if by_value else {"bucket": [b]}
    sse = (
        {"sseAlgorithm": "AES256"}
        if log
        else {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}
    )
    out = [
        b,
        res(
            "aws:s3/bucketServerSideEncryptionConfiguration:"
            "BucketServerSideEncryptionConfiguration",
            f"{name}-sse",
            {"bucket": bucket, "rules": [{"applyServerSideEncryptionByDefault": sse}]},
            parent=STORE,
            deps=dep,
        ),
        res(
            "aws:s3/bucketVersioning:BucketVersioning",
            f"{name}-versioning",
            {"bucket": bucket, "versioningConfiguration": {"status": "Enabled"}},
            parent=STORE,
            deps=dep,
        ),
        res(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            f"{name}-pab",
            {
                "bucket": bucket,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            parent=STORE,
            deps=dep,
        ),
        res(
            "aws:s3/bucketPolicy:BucketPolicy",
            f"{name}-policy",
            {"bucket": bucket, "policy": tls_policy(bucket)},
            parent=STORE,
            deps=dep,
        ),
    ]
    if not log:
        out.append(
            res(
                "aws:s3/bucketLogging:BucketLogging",
                f"{name}-logging",
                {"bucket": bucket, "targetBucket": f"{bucket}-logs"},
                parent=STORE,
                deps=dep,
            )
        )
    return out


HAPPY = [STORE, *bucket_stack(), *bucket_stack("logs", "acme-data-logs", log=True)]
S3_STACK_POLICIES = [
    "s3-bucket-encryption-kms",
    "s3-bucket-versioning",
    "s3-bucket-public-access-block",
    "s3-bucket-tls-only",
    "s3-bucket-access-logging",
]


@pytest.mark.parametrize("policy", S3_STACK_POLICIES)
def test_s3_stack_rules_pass_a_hardened_bucket(policy: str) -> None:
    assert messages(policy, HAPPY) == []


@pytest.mark.parametrize("policy", S3_STACK_POLICIES)
def test_s3_stack_rules_link_companions_by_bucket_name(policy: str) -> None:
    assert messages(policy, [*bucket_stack(by_value=True)]) == []


def _inputs(rs: list[dict[str, Any]], suffix: str, name: str | None = None) -> dict[str, Any]:
    return find(rs, suffix, name)["inputs"]


def _sse(rs: list[dict[str, Any]], name: str = "data-sse") -> dict[str, Any]:
    return _inputs(rs, "BucketServerSideEncryptionConfiguration", name)["rules"][0][
        "applyServerSideEncryptionByDefault"
    ]


FAILING = [
    (
        "s3-bucket-encryption-kms",
        lambda rs: _sse(rs).update(sseAlgorithm="AES256"),
        "Bucket 'acme-data' encrypts with 'AES256', not aws:kms (only access-log buckets may "
        "use AES256).",
    ),
    (
        "s3-bucket-encryption-kms",
        lambda rs: _sse(rs).pop("kmsMasterKeyId"),
        "Bucket 'acme-data' uses aws:kms without a customer-managed key (kmsMasterKeyId).",
    ),
    (
        "s3-bucket-encryption-kms",
        lambda rs: rs.remove(find(rs, "BucketServerSideEncryptionConfiguration", "data-sse")),
        "Bucket 'acme-data' has no server-side encryption configuration.",
    ),
    (
        "s3-bucket-encryption-kms",
        lambda rs: _sse(rs, "logs-sse").update(sseAlgorithm="ROT13"),
        "Bucket 'acme-data-logs' encrypts with 'ROT13', not aws:kms (only access-log buckets "
        "may use AES256).",
    ),
    (
        "s3-bucket-versioning",
        lambda rs: _inputs(rs, "BucketVersioning", "data-versioning")[
            "versioningConfiguration"
        ].update(status="Suspended"),
        "Bucket 'acme-data' is not versioned (Suspended).",
    ),
    (
        "s3-bucket-versioning",
        lambda rs: rs.remove(find(rs, "BucketVersioning", "data-versioning")),
        "Bucket 'acme-data' is not versioned (no BucketVersioning).",
    ),
    (
        "s3-bucket-public-access-block",
        lambda rs: _inputs(rs, "BucketPublicAccessBlock", "data-pab").update(
            restrictPublicBuckets=False
        ),
        "Bucket 'acme-data' public-access block leaves restrictPublicBuckets off.",
    ),
    (
        "s3-bucket-public-access-block",
        lambda rs: rs.remove(find(rs, "BucketPublicAccessBlock", "data-pab")),
        "Bucket 'acme-data' has no BucketPublicAccessBlock.",
    ),
    (
        "s3-bucket-tls-only",
        lambda rs: _inputs(rs, "BucketPolicy", "data-policy").update(
            policy=json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:DeleteBucket",
                            "Resource": "*",
                        }
                    ]
                }
            )
        ),
        "Bucket 'acme-data' has no bucket policy denying requests without TLS (Deny s3:* when "
        "aws:SecureTransport is false).",
    ),
    (
        "s3-bucket-tls-only",
        lambda rs: _inputs(rs, "BucketPolicy", "data-policy").update(policy="[secret]"),
        unseen("aws:s3/bucketPolicy:BucketPolicy 'data-policy' .policy"),
    ),
    (
        "s3-bucket-access-logging",
        lambda rs: rs.remove(find(rs, "BucketLogging", "data-logging")),
        "Bucket 'acme-data' has no server access logging (BucketLogging).",
    ),
]


@pytest.mark.parametrize(("policy", "change", "message"), FAILING)
def test_s3_stack_rules_fail(policy: str, change: Any, message: str) -> None:
    found = messages(policy, mutated(HAPPY, change))
    assert found == [message]


def test_s3_violation_names_the_bucket_urn() -> None:
    from harness import run

    rs = mutated(HAPPY, lambda rs: rs.remove(find(rs, "BucketVersioning", "data-versioning")))
    (violation,) = run("s3-bucket-versioning", rs)
    assert violation["urn"] == find(rs, "s3/bucket:Bucket", "data")["urn"]
    assert violation["enforcement"] == "mandatory"


def test_s3_companions_of_another_bucket_do_not_count() -> None:
    # same bucket name string on a companion that depends on a different bucket
    rs = bucket_stack()
    other = res("aws:s3/bucket:Bucket", "other", {"bucket": "acme-other", "tags": {}})
    find(rs, "BucketVersioning")["propertyDependencies"] = {"bucket": [other["urn"]]}
    # the dependency wins over the equal name: the versioning belongs to acme-other
    assert messages("s3-bucket-versioning", [*rs, other]) == [
        "Bucket 'acme-data' is not versioned (no BucketVersioning)."
    ]


# ------------------------------------------------------------------ resource rules
ACL = "aws:s3/bucketAcl:BucketAcl"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"


def test_s3_no_public_acl_passes_private() -> None:
    assert messages("s3-no-public-acl", [res(ACL, "acl", {"bucket": "b", "acl": "private"})]) == []


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"bucket": "b", "acl": "public-read"}, "ACL 'public-read' makes the bucket public."),
        (
            {
                "bucket": "b",
                "accessControlPolicy": {
                    "grants": [
                        {
                            "permission": "READ",
                            "grantee": {
                                "type": "Group",
                                "uri": "http://acs.amazonaws.com/groups/global/AllUsers",
                            },
                        }
                    ]
                },
            },
            "ACL grants READ to AllUsers.",
        ),
    ],
)
def test_s3_no_public_acl_fails(inputs: dict[str, Any], message: str) -> None:
    assert messages("s3-no-public-acl", [res(ACL, "acl", inputs)]) == [message]


def _doc(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


PUBLIC_GET = {
    "Sid": "Read",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*",
}


def test_s3_bucket_policy_not_public_passes_account_scoped() -> None:
    scoped = {**PUBLIC_GET, "Condition": {"StringEquals": {"aws:SourceAccount": "123"}}}
    assert (
        messages(
            "s3-bucket-policy-not-public",
            [res(POLICY, "p", {"bucket": "b", "policy": _doc(scoped)})],
        )
        == []
    )


def test_s3_bucket_policy_not_public_fails_anonymous_read() -> None:
    assert messages(
        "s3-bucket-policy-not-public",
        [res(POLICY, "p", {"bucket": "b", "policy": _doc(PUBLIC_GET)})],
    ) == [
        "Statement Read allows s3:GetObject to every principal ('*') without an account, "
        "organization or VPC condition."
    ]


ECR = "aws:ecr/repository:Repository"
ECR_OK = {
    "imageTagMutability": "IMMUTABLE",
    "imageScanningConfiguration": {"scanOnPush": True},
    "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}],
}


def test_ecr_repository_hardened_passes() -> None:
    assert messages("ecr-repository-hardened", [res(ECR, "r", ECR_OK)]) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"imageTagMutability": "MUTABLE"},
            "Image tags are mutable: set imageTagMutability to IMMUTABLE.",
        ),
        (
            {"imageScanningConfiguration": {"scanOnPush": False}},
            "Images are not scanned on push (imageScanningConfiguration.scanOnPush).",
        ),
        (
            {"encryptionConfigurations": [{"encryptionType": "AES256"}]},
            "Repository is not encrypted with KMS (encryptionConfigurations).",
        ),
    ],
)
def test_ecr_repository_hardened_fails(change: dict[str, Any], message: str) -> None:
    assert messages("ecr-repository-hardened", [res(ECR, "r", {**ECR_OK, **change})]) == [message]


KMS = "aws:kms/key:Key"


def test_kms_key_rotation_passes_rotating_and_asymmetric_keys() -> None:
    assert (
        messages(
            "kms-key-rotation",
            [
                res(KMS, "k", {"enableKeyRotation": True}),
                res(KMS, "sign", {"customerMasterKeySpec": "RSA_2048"}),
            ],
        )
        == []
    )


def test_kms_key_rotation_fails_without_rotation() -> None:
    assert messages("kms-key-rotation", [res(KMS, "k", {"enableKeyRotation": False})]) == [
        "Automatic key rotation is off (enableKeyRotation)."
    ]
