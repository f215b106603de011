"""What AWS would hold after `pulumi up`, asked of moto through boto3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from plans import planned

from mlops.engine.plan import plan_program
from mlops.errors import PlanError


def aws_state(env: str) -> dict[str, Any]:
    """What moto held for the environment's artifact bucket and its key, read once per
    session with the environment's plan (tests/plans.py)."""
    aws = planned(env).aws
    bucket = aws["buckets"][f"mlops-{env}-artifacts-123456789012"]
    seen: dict[str, Any] = {
        "encryption": bucket["encryption"][0],
        "versioning": bucket["versioning"],
        "pab": bucket["public_access_block"],
        "policy": bucket["policy"],
        "lifecycle": bucket["lifecycle"],
        "ownership": bucket["ownership"][0]["ObjectOwnership"],
        "logging": bucket["logging"],
        "tags": bucket["tags"],
    }
    key_id = seen["encryption"]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    (key,) = [
        k
        for k in aws["keys"].values()
        if key_id in (k["metadata"]["KeyId"], k["metadata"]["Arn"], *k["aliases"])
    ]
    seen["key"] = key["metadata"]
    seen["rotation"] = key["rotation"]
    seen["aliases"] = key["aliases"]
    return seen


@pytest.fixture(scope="module")
def prod() -> dict[str, Any]:
    return aws_state("prod")


def test_encrypted_with_the_customer_key(prod: dict[str, Any]) -> None:
    default = prod["encryption"]["ApplyServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert prod["encryption"]["BucketKeyEnabled"] is True
    assert prod["key"]["KeyManager"] == "CUSTOMER" and prod["key"]["Enabled"]
    assert prod["rotation"] is True
    assert prod["aliases"] == ["alias/mlops-prod-artifacts-123456789012"]
    assert default["KMSMasterKeyID"] == prod["key"]["Arn"]


def test_public_access_blocked_and_versioned(prod: dict[str, Any]) -> None:
    assert prod["pab"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert prod["versioning"] == "Enabled"
    assert prod["ownership"] == "BucketOwnerEnforced"


def test_non_tls_requests_denied(prod: dict[str, Any]) -> None:
    denies = [s for s in prod["policy"]["Statement"] if s["Effect"] == "Deny"]
    assert denies and denies[0]["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_noncurrent_versions_expire(prod: dict[str, Any]) -> None:
    rules = {r["ID"]: r for r in prod["lifecycle"]}
    assert (
        rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    )
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 7
    }


def test_access_logs_delivered_to_the_log_bucket(prod: dict[str, Any]) -> None:
    assert prod["logging"] == {
        "TargetBucket": "mlops-prod-artifacts-123456789012-logs",
        "TargetPrefix": "s3/mlops-prod-artifacts-123456789012/",
    }
    assert prod["tags"]["environment"] == "prod"


def test_dev_has_no_access_logging() -> None:
    assert aws_state("dev")["logging"] is None


def test_settings_moto_accepts_but_aws_refuses_fail_the_plan(tmp_path: Path) -> None:
    # moto stores any bucket policy and any SSE algorithm; AWS refuses these.
    (tmp_path / "Pulumi.yaml").write_text("name: odd\nruntime: python\n")
    program = (
        "import pulumi, pulumi_aws as aws\n"
        "p = pulumi.ResourceOptions(provider=aws.Provider('aws', region='us-east-1'))\n"
        "b = aws.s3.Bucket('b', bucket='odd-bucket', opts=p)\n"
    )
    cases = [
        (
            "aws.s3.BucketPolicy('pol', bucket=b.id, policy='not json', opts=p)",
            "aws:s3/bucketPolicy:BucketPolicy 'pol': "
            "MalformedPolicyDocument: bucket policy is not valid JSON",
        ),
        (
            "aws.s3.BucketServerSideEncryptionConfiguration('enc', bucket=b.id, rules=[{"
            "'apply_server_side_encryption_by_default': {'sse_algorithm': 'ROT13'}}], opts=p)",
            "aws:s3/bucketServerSideEncryptionConfiguration:"
            "BucketServerSideEncryptionConfiguration 'enc': MalformedXML: SSE algorithm 'ROT13'",
        ),
        (
            "aws.s3.BucketVersioning('ver', bucket=b.id,"
            " versioning_configuration={'status': 'On'}, opts=p)",
            "aws:s3/bucketVersioning:BucketVersioning 'ver': MalformedXML: versioning status 'On'",
        ),
    ]
    for line, message in cases:
        (tmp_path / "__main__.py").write_text(program + line + "\n")
        with pytest.raises(PlanError) as err:
            plan_program(tmp_path)
        assert str(err.value).startswith(message)
