"""ArtifactStore property by property, in each environment, under mocks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from plans import planned

from infra.services.artifact_store.component import prefix_policy_document

ENVS = ("dev", "staging", "prod")
BUCKET = "aws:s3/bucket:Bucket"


@pytest.fixture(scope="module")
def plans() -> dict[str, dict[str, Any]]:
    return {env: planned(env).plan for env in ENVS}


def only(plan: dict[str, Any], typ: str, name: str) -> dict[str, Any]:
    matches = [r for r in plan["resources"] if r["type"] == typ and r["name"] == name]
    assert len(matches) == 1, f"{typ} {name}: {len(matches)} found"
    return matches[0]


def bucket_name(plan: dict[str, Any]) -> str:
    return only(plan, BUCKET, "artifacts")["inputs"]["bucket"]


@pytest.mark.parametrize("env", ENVS)
def test_bucket_is_named_per_environment_and_account(plans: dict, env: str) -> None:
    assert bucket_name(plans[env]) == f"mlops-{env}-artifacts-123456789012"
    assert plans[env]["outputs"]["artifact_bucket"] == bucket_name(plans[env])


@pytest.mark.parametrize("env", ENVS)
def test_versioning_enabled(plans: dict, env: str) -> None:
    v = only(plans[env], "aws:s3/bucketVersioning:BucketVersioning", "artifacts-versioning")
    assert v["inputs"]["bucket"] == bucket_name(plans[env])
    assert v["inputs"]["versioningConfiguration"]["status"] == "Enabled"


@pytest.mark.parametrize("env", ENVS)
def test_sse_kms_with_rotating_customer_key_and_bucket_key(plans: dict, env: str) -> None:
    plan = plans[env]
    enc = only(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "artifacts-encryption",
    )
    (rule,) = enc["inputs"]["rules"]
    key = only(plan, "aws:kms/key:Key", "artifacts-key")
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert (
        rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
        == (plan["outputs"]["artifact_kms_key_arn"])
    )
    assert rule["bucketKeyEnabled"] is True
    assert key["inputs"]["enableKeyRotation"] is True
    assert key["urn"] in enc["dependencies"]


@pytest.mark.parametrize("env", ENVS)
def test_all_public_access_blocked_and_acls_off(plans: dict, env: str) -> None:
    pab = only(
        plans[env],
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "artifacts-public-access-block",
    )["inputs"]
    assert all(
        pab[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    own = only(
        plans[env], "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "artifacts-ownership"
    )
    assert own["inputs"]["rule"]["objectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize("env", ENVS)
def test_bucket_policy_denies_non_tls(plans: dict, env: str) -> None:
    policy = json.loads(
        only(plans[env], "aws:s3/bucketPolicy:BucketPolicy", "artifacts-policy")["inputs"]["policy"]
    )
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    arn = f"arn:aws:s3:::{bucket_name(plans[env])}"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Action"] == "s3:*"
    assert sorted(deny["Resource"]) == [arn, f"{arn}/*"]


@pytest.mark.parametrize(("env", "days"), [("dev", 7), ("staging", 30), ("prod", 90)])
def test_lifecycle_expires_noncurrent_and_aborts_uploads(plans: dict, env: str, days: int) -> None:
    rules = {
        r["id"]: r
        for r in only(
            plans[env],
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "artifacts-lifecycle",
        )["inputs"]["rules"]
    }
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": days
    }
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
        "daysAfterInitiation": 7
    }
    transitions = rules["expire-noncurrent-versions"].get("transitions")
    if env == "prod":
        assert transitions == [{"days": 60, "storageClass": "INTELLIGENT_TIERING"}]
    else:
        assert not transitions


@pytest.mark.parametrize(("env", "logged"), [("dev", False), ("staging", True), ("prod", True)])
def test_access_logging_to_a_secured_log_bucket(plans: dict, env: str, logged: bool) -> None:
    plan = plans[env]
    logging = [
        r
        for r in plan["resources"]
        if r["type"] == "aws:s3/bucketLogging:BucketLogging" and r["name"] == "artifacts-logging"
    ]
    if not logged:
        assert not logging
        return
    (log,) = logging
    log_bucket = only(plan, BUCKET, "artifacts-logs")["inputs"]["bucket"]
    assert log["inputs"]["targetBucket"] == log_bucket
    # the log bucket is itself encrypted (SSE-S3: log delivery cannot use KMS), private and TLS-only
    enc = only(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "artifacts-logs-encryption",
    )
    assert (
        enc["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    )
    policy = json.loads(
        only(plan, "aws:s3/bucketPolicy:BucketPolicy", "artifacts-logs-policy")["inputs"]["policy"]
    )
    delivery = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert delivery[0]["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert (
        delivery[0]["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:s3:::{bucket_name(plan)}"
    )
    # logging is switched on only after delivery is allowed
    policy_urn = only(plan, "aws:s3/bucketPolicy:BucketPolicy", "artifacts-logs-policy")["urn"]
    assert policy_urn in log["dependencies"]


@pytest.mark.parametrize(
    ("env", "force_destroy", "protect"),
    [("dev", True, False), ("staging", False, False), ("prod", False, True)],
)
def test_force_destroy_and_protect_follow_config(
    plans: dict, env: str, force_destroy: bool, protect: bool
) -> None:
    bucket = only(plans[env], BUCKET, "artifacts")
    assert bucket["inputs"]["forceDestroy"] is force_destroy
    assert bucket["protect"] is protect
    assert only(plans[env], "aws:kms/key:Key", "artifacts-key")["protect"] is protect


@pytest.mark.parametrize("env", ENVS)
def test_every_child_is_parented_to_the_component(plans: dict, env: str) -> None:
    (component,) = [
        r
        for r in plans[env]["resources"]
        if r["type"] == "mlops:storage:ArtifactStore" and r["name"] == "artifacts"
    ]
    # other components own KMS keys too: the store's children are the "artifacts*" ones
    children = [
        r
        for r in plans[env]["resources"]
        if r["type"].startswith(("aws:s3", "aws:kms")) and r["name"].startswith("artifacts")
    ]
    assert children and all(r["parent"] == component["urn"] for r in children)


@pytest.mark.parametrize("env", ENVS)
def test_every_taggable_resource_has_the_required_tags(plans: dict, env: str) -> None:
    for r in plans[env]["resources"]:
        if r["type"] in (BUCKET, "aws:kms/key:Key"):
            tags = r["inputs"]["tags"]
            for key in ("owner", "cost-center", "data-classification"):
                assert tags[key]
            assert tags["environment"] == env


def policy(access: str, prefix: str = "mlflow") -> dict[str, Any]:
    return json.loads(
        prefix_policy_document(
            bucket_name="b",
            prefix=prefix,
            access=access,  # type: ignore[arg-type]
            key_alias="alias/b",
            region="us-east-1",
            account_id="123456789012",
        )
    )


def test_read_policy_is_scoped_to_the_prefix() -> None:
    doc = policy("read")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["ObjectsUnderPrefix"]["Resource"] == "arn:aws:s3:::b/mlflow/*"
    assert by_sid["ObjectsUnderPrefix"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert by_sid["ListPrefix"]["Condition"]["StringLike"]["s3:prefix"] == ["mlflow", "mlflow/*"]
    assert by_sid["UseBucketKey"]["Action"] == ["kms:Decrypt"]
    assert by_sid["UseBucketKey"]["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": "alias/b"
    }


def test_read_write_policy_adds_only_object_writes() -> None:
    actions = {s["Sid"]: s["Action"] for s in policy("read-write")["Statement"]}
    assert "s3:PutObject" in actions["ObjectsUnderPrefix"]
    assert "s3:DeleteBucket" not in json.dumps(actions)
    assert "kms:GenerateDataKey" in actions["UseBucketKey"]
    assert not any("*" in a for a in actions["ObjectsUnderPrefix"])


@pytest.mark.parametrize("prefix", ["", "/", "team/*"])
def test_policy_refuses_whole_bucket_or_wildcard_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix must be"):
        policy("read", prefix)
