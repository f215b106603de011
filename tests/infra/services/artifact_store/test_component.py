"""ArtifactStore built alone: secure by default, each setting of its section applied."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from alone import ACCOUNT, REGION, Built, build

from infra.services.artifact_store.component import ArtifactStore, ArtifactStoreArgs
from infra.services.artifact_store.config import ArtifactStoreConfig

BUCKET = "mlops-test-artifacts-123456789012"
TYPE = "mlops:storage:ArtifactStore"


def store(config: ArtifactStoreConfig, bucket: str = BUCKET) -> Built:
    def make(opts: pulumi.ResourceOptions) -> None:
        ArtifactStore(
            "artifacts",
            ArtifactStoreArgs(
                config=config,
                bucket_name=bucket,
                account_id=ACCOUNT,
                region=REGION,
                tags={"owner": "t"},
            ),
            opts=opts,
        )

    def held(b: Any) -> dict[str, Any]:
        s3 = b.client("s3")
        names = [x["Name"] for x in s3.list_buckets()["Buckets"]]
        return {
            "buckets": names,
            "encryption": s3.get_bucket_encryption(Bucket=bucket),
            "versioning": s3.get_bucket_versioning(Bucket=bucket),
            "pab": s3.get_public_access_block(Bucket=bucket),
            "policy": json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
            "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
            "logging": s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled"),
            "log_lifecycle": (
                s3.get_bucket_lifecycle_configuration(Bucket=f"{bucket}-logs")["Rules"]
                if f"{bucket}-logs" in names
                else None
            ),
        }

    return build(make, inspect=held)


def test_defaults_are_secure_and_aws_holds_them() -> None:
    built = store(ArtifactStoreConfig())
    built.assert_parented(TYPE)
    held = built.aws
    (rule,) = held["encryption"]["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert held["versioning"]["Status"] == "Enabled"
    assert all(held["pab"]["PublicAccessBlockConfiguration"].values())
    (deny,) = held["policy"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert held["logging"] is None and held["buckets"] == [BUCKET]  # no log bucket by default
    key = built.inputs("aws:kms/key:Key")
    assert key["enableKeyRotation"] is True
    assert not any(r["protect"] for r in built.resources)


def test_lifecycle_follows_the_section() -> None:
    config = ArtifactStoreConfig(
        noncurrent_version_expiration_days=90,
        abort_incomplete_multipart_days=3,
        transition={"days": 60, "storage_class": "GLACIER_IR"},
    )
    rules = {r["ID"]: r for r in store(config).aws["lifecycle"]}
    expire = rules["expire-noncurrent-versions"]
    assert expire["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert expire["Transitions"] == [{"Days": 60, "StorageClass": "GLACIER_IR"}]
    abort = rules["abort-incomplete-multipart-uploads"]
    assert abort["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 3


def test_access_logs_go_to_a_log_bucket_of_their_own_and_protection_reaches_both() -> None:
    built = store(
        ArtifactStoreConfig(access_logging=True, access_log_retention_days=400, protect=True)
    )
    held = built.aws
    assert sorted(held["buckets"]) == [BUCKET, f"{BUCKET}-logs"]
    assert held["logging"]["TargetBucket"] == f"{BUCKET}-logs"
    protected = {r["name"] for r in built.resources if r["protect"]}
    assert {"artifacts", "artifacts-logs", "artifacts-key"} <= protected


def test_the_log_bucket_aborts_unfinished_uploads_as_the_bucket_does() -> None:
    held = store(ArtifactStoreConfig(access_logging=True, abort_incomplete_multipart_days=3)).aws
    (rule,) = held["log_lifecycle"]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}
    assert rule["Expiration"]["Days"] == ArtifactStoreConfig().access_log_retention_days


def test_a_bucket_name_whose_log_bucket_would_be_too_long_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        ArtifactStoreArgs(
            config=ArtifactStoreConfig(), bucket_name="b" * 60, account_id=ACCOUNT, region=REGION
        )
