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
        "Bucket 'acme-data' encrypts with 'AES256', not aws:kms (only buckets that receive other "
        "buckets' access logs may use AES256).",
    ),
    (
        "s3-bucket-encryption-kms",
        lambda rs: _sse(rs).pop("kmsMasterKeyId"),
        "Bucket 'acme-data' uses aws:kms without a customer-managed key (kmsMasterKeyId).",
    ),
    (
        "s3-bucket-encryption-kms",
        lambda rs: _sse(rs).update(kmsMasterKeyId="alias/aws/s3"),
        "Bucket 'acme-data' uses aws:kms without a customer-managed key (kmsMasterKeyId): "
        "'alias/aws/s3' is an AWS-managed key.",
    ),
    (
        "s3-bucket-encryption-kms",
        lambda rs: _sse(rs).update(
            kmsMasterKeyId="arn:aws:kms:us-east-1:123456789012:alias/aws/s3"
        ),
        "Bucket 'acme-data' uses aws:kms without a customer-managed key (kmsMasterKeyId): "
        "'arn:aws:kms:us-east-1:123456789012:alias/aws/s3' is an AWS-managed key.",
    ),
    (
        "s3-bucket-encryption-kms",
        lambda rs: rs.remove(find(rs, "BucketServerSideEncryptionConfiguration", "data-sse")),
        "Bucket 'acme-data' has no server-side encryption configuration.",
    ),
    (
        "s3-bucket-encryption-kms",
        lambda rs: _sse(rs, "logs-sse").update(sseAlgorithm="ROT13"),
        "Bucket 'acme-data-logs' encrypts with 'ROT13', not aws:kms (only buckets that receive "
        "other buckets' access logs may use AES256).",
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
        lambda rs: _inputs(rs, "BucketPolicy", "data-policy").update(policy="[secret]"),
        unseen("aws:s3/bucketPolicy:BucketPolicy 'data-policy' .policy"),
    ),
    (
        "s3-bucket-tls-only",
        lambda rs: rs.remove(find(rs, "BucketPolicy", "data-policy")),
        "Bucket 'acme-data' has no bucket policy denying requests without TLS (Deny s3:* when "
        "aws:SecureTransport is false).",
    ),
    (
        "s3-bucket-access-logging",
        lambda rs: find(rs, "BucketLogging", "data-logging")["inputs"].update(
            targetBucket="acme-elsewhere"
        ),
        "Bucket 'acme-data-logs' has no server access logging (BucketLogging).",
    ),
]


@pytest.mark.parametrize(("policy", "change", "message"), FAILING)
def test_s3_stack_rules_fail(policy: str, change: Any, message: str) -> None:
    found = messages(policy, mutated(HAPPY, change))
    assert found == [message]


def test_s3_bucket_without_logging_and_its_log_bucket_both_fail() -> None:
    # with no bucket logging into it, acme-data-logs is an ordinary bucket again
    rs = mutated(HAPPY, lambda rs: rs.remove(find(rs, "BucketLogging", "data-logging")))
    assert messages("s3-bucket-access-logging", rs) == [
        "Bucket 'acme-data' has no server access logging (BucketLogging).",
        "Bucket 'acme-data-logs' has no server access logging (BucketLogging).",
    ]


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


ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
OWNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


@pytest.mark.parametrize("bucket_type", ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"])
def test_s3_no_public_acl_reads_the_bucket_inline_grants(bucket_type: str) -> None:
    """The bucket's own `grants` input is an ACL as much as a BucketAcl is."""
    public = {
        "bucket": "b",
        "grants": [
            {"type": "CanonicalUser", "id": OWNER_ID, "permissions": ["FULL_CONTROL"]},
            {"type": "Group", "uri": ALL_USERS, "permissions": ["READ", "READ_ACP"]},
        ],
    }
    assert messages("s3-no-public-acl", [res(bucket_type, "b", public)]) == [
        "ACL grants READ, READ_ACP to AllUsers."
    ]
    owner_only = {"bucket": "b", "grants": public["grants"][:1]}
    assert messages("s3-no-public-acl", [res(bucket_type, "b", owner_only)]) == []


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


# ---- the access-log exemption comes from another bucket's logging, not from a tag


def _secret_bucket(**tags: str) -> list[dict[str, Any]]:
    """A data bucket tagging itself as an access-log bucket: AES256, no logging."""
    rs = bucket_stack("secrets", "acme-secrets", log=True)
    find(rs, "s3/bucket:Bucket", "secrets")["inputs"]["tags"] = dict(tags)
    return rs


def test_bucket_tagging_itself_purpose_s3_access_logs_gets_no_exemption() -> None:
    rs = [STORE, *HAPPY[1:], *_secret_bucket(purpose="s3-access-logs")]
    assert messages("s3-bucket-encryption-kms", rs) == [
        "Bucket 'acme-secrets' encrypts with 'AES256', not aws:kms (only buckets that receive "
        "other buckets' access logs may use AES256)."
    ]
    assert messages("s3-bucket-access-logging", rs) == [
        "Bucket 'acme-secrets' has no server access logging (BucketLogging)."
    ]


def test_bucket_logging_into_itself_is_no_log_bucket() -> None:
    rs = _secret_bucket()
    rs.append(
        res(
            "aws:s3/bucketLogging:BucketLogging",
            "secrets-logging",
            {"bucket": "acme-secrets", "targetBucket": "acme-secrets"},
            deps={"bucket": [rs[0]], "targetBucket": [rs[0]]},
        )
    )
    assert len(messages("s3-bucket-encryption-kms", rs)) == 1


def test_bucket_receiving_another_buckets_logs_may_use_aes256_untagged() -> None:
    logs = bucket_stack("logs", "acme-data-logs", log=True)
    find(logs, "s3/bucket:Bucket", "logs")["inputs"]["tags"] = {}
    target = find(logs, "s3/bucket:Bucket", "logs")
    data = bucket_stack()
    find(data, "BucketLogging")["propertyDependencies"]["targetBucket"] = [target["urn"]]
    rs = [STORE, *data, *logs]
    assert messages("s3-bucket-encryption-kms", rs) == []
    assert messages("s3-bucket-access-logging", rs) == []


def test_inline_logging_of_another_bucket_makes_the_target_a_log_bucket() -> None:
    logs = bucket_stack("logs", "acme-data-logs", log=True)
    source = res(
        "aws:s3/bucket:Bucket",
        "legacy",
        {"bucket": "acme-legacy", "logging": {"targetBucket": "acme-data-logs"}},
    )
    assert messages("s3-bucket-encryption-kms", [*logs, source]) == [
        "Bucket 'acme-legacy' has no server-side encryption configuration."
    ]


# ------------------------------------------------------------------ issue 14: bucket policies
def _deny_plain_http(**change: Any) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::acme-data", "arn:aws:s3:::acme-data/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        **change,
    }


@pytest.mark.parametrize(
    ("statement", "gaps"),
    [
        # the miss: a plain-HTTP request carries no s3:TlsVersion, so nothing is denied
        (
            _deny_plain_http(Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
            "s3:AbortMultipartUpload, ",
        ),
        (_deny_plain_http(Action="s3:DeleteBucket", Resource="*"), "s3:AbortMultipartUpload, "),
        (_deny_plain_http(Action=["s3:GetObject", "s3:PutObject"]), "s3:AbortMultipartUpload, "),
        (_deny_plain_http(Resource="arn:aws:s3:::acme-data/*"), "s3:CreateBucket"),
        # narrowed to requests through one VPC endpoint: the rest get through
        (
            _deny_plain_http(
                Condition={
                    "Bool": {"aws:SecureTransport": "false"},
                    "StringEquals": {"aws:SourceVpce": "vpce-1"},
                }
            ),
            "s3:AbortMultipartUpload, ",
        ),
        # a Deny that spares some principals lets them skip TLS
        (
            {
                **{k: v for k, v in _deny_plain_http().items() if k != "Principal"},
                "NotPrincipal": {"AWS": "arn:aws:iam::999999999999:root"},
            },
            "s3:AbortMultipartUpload, ",
        ),
    ],
)
def test_tls_only_policy_accepting_tls_version_alone_or_partial_denies(
    statement: dict[str, Any], gaps: str
) -> None:
    rs = mutated(
        HAPPY, lambda rs: _inputs(rs, "BucketPolicy", "data-policy").update(policy=_doc(statement))
    )
    (message,) = messages("s3-bucket-tls-only", rs)
    assert message.startswith(
        "Bucket 'acme-data' has no bucket policy denying requests without TLS (Deny s3:* when "
        "aws:SecureTransport is false): BucketPolicy 'data-policy' lets "
    )
    assert gaps in message


def test_tls_only_policy_passes_a_deny_of_everything_without_tls() -> None:
    also_old_tls = _deny_plain_http(Condition={"Bool": {"aws:SecureTransport": "false"}})
    tls_version = {
        **_deny_plain_http(Sid="OldTls"),
        "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
    }
    rs = mutated(
        HAPPY,
        lambda rs: _inputs(rs, "BucketPolicy", "data-policy").update(
            policy=json.dumps({"Statement": [also_old_tls, tls_version]})
        ),
    )
    assert messages("s3-bucket-tls-only", rs) == []
    # the bucket's own policy input counts too
    inline = mutated(
        HAPPY,
        lambda rs: (
            rs.remove(find(rs, "BucketPolicy", "data-policy")),
            _inputs(rs, "s3/bucket:Bucket", "data").update(policy=_doc(_deny_plain_http())),
        ),
    )
    assert messages("s3-bucket-tls-only", inline) == []


def test_tls_only_every_policy_set_on_a_bucket_must_deny_plain_http() -> None:
    # AWS keeps one bucket policy: a non-TLS inline policy may be the one that wins
    rs = mutated(
        HAPPY, lambda rs: _inputs(rs, "s3/bucket:Bucket", "data").update(policy=_doc(PUBLIC_GET))
    )
    (message,) = messages("s3-bucket-tls-only", rs)
    assert "the bucket's policy input lets" in message


@pytest.mark.parametrize(
    ("type_", "inputs"),
    [
        # the miss: the bucket's own (deprecated) policy argument made public
        ("aws:s3/bucket:Bucket", {"bucket": "b", "policy": _doc(PUBLIC_GET)}),
        ("aws:s3/bucketV2:BucketV2", {"bucket": "b", "policy": _doc(PUBLIC_GET)}),
        (
            "aws:s3/accessPoint:AccessPoint",
            {"bucket": "b", "name": "ap", "policy": _doc(PUBLIC_GET)},
        ),
        (
            "aws:s3control/accessPointPolicy:AccessPointPolicy",
            {"accessPointArn": "ap", "policy": _doc(PUBLIC_GET)},
        ),
        (
            "aws:s3control/multiRegionAccessPointPolicy:MultiRegionAccessPointPolicy",
            {"details": {"name": "m", "policy": _doc(PUBLIC_GET)}},
        ),
        # a condition whose key is present under an operator that admits anyone
        (
            POLICY,
            {
                "bucket": "b",
                "policy": _doc(
                    {**PUBLIC_GET, "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}
                ),
            },
        ),
        (
            POLICY,
            {
                "bucket": "b",
                "policy": _doc(
                    {
                        **PUBLIC_GET,
                        "Condition": {
                            "StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}
                        },
                    }
                ),
            },
        ),
        (
            POLICY,
            {
                "bucket": "b",
                "policy": _doc(
                    {
                        **PUBLIC_GET,
                        "Condition": {"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}},
                    }
                ),
            },
        ),
        (POLICY, {"bucket": "b", "policy": _doc({**PUBLIC_GET, "Principal": {"AWS": ["*"]}})}),
        (
            POLICY,
            {
                "bucket": "b",
                "policy": _doc(
                    {
                        k: v
                        for k, v in {**PUBLIC_GET, "NotPrincipal": {"AWS": "1"}}.items()
                        if k != "Principal"
                    }
                ),
            },
        ),
    ],
)
def test_bucket_policy_made_public_wherever_it_is_set(type_: str, inputs: dict[str, Any]) -> None:
    (message,) = messages("s3-bucket-policy-not-public", [res(type_, "p", inputs)])
    assert "to every principal ('*') without an account, organization or VPC condition" in message


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}},
    ],
)
def test_bucket_policy_pinned_by_a_fixed_condition_is_not_public(
    condition: dict[str, Any],
) -> None:
    policy = _doc({**PUBLIC_GET, "Condition": condition})
    rs = [res("aws:s3/bucket:Bucket", "b", {"bucket": "b", "policy": policy})]
    assert messages("s3-bucket-policy-not-public", rs) == []
