"""S3: buckets and their companion resources (pulumi_aws 7 splits a bucket's settings)."""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import ClientError

from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    as_list,
    handles,
    policy_json,
    tags,
)

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


@handles("aws:s3/bucket:Bucket")
def _bucket(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    bucket = state["bucket"]
    if not _BUCKET.match(bucket) or ".." in bucket or _IP.match(bucket):
        raise AwsRejected(f"InvalidBucketName: {bucket!r} is not a valid bucket name")
    s3 = b.client("s3")
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if b.ctx.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": b.ctx.region}
    s3.create_bucket(**kwargs)
    if inputs.get("tags"):
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags(inputs)})


@handles("aws:s3/bucketVersioning:BucketVersioning")
def _versioning(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    status = (inputs.get("versioningConfiguration") or {}).get("status")
    if status not in ("Enabled", "Suspended", "Disabled"):
        raise AwsRejected(f"MalformedXML: versioning status {status!r} is not Enabled or Suspended")
    if status == "Disabled":
        return  # the provider only records it; a never-versioned bucket needs no call
    b.client("s3").put_bucket_versioning(
        Bucket=inputs["bucket"], VersioningConfiguration={"Status": status}
    )


_SSE = {"AES256", "aws:kms", "aws:kms:dsse"}


@handles("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
def _encryption(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    rules = []
    for rule in inputs.get("rules") or []:
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        algorithm = default.get("sseAlgorithm")
        if algorithm not in _SSE:
            raise AwsRejected(
                f"MalformedXML: SSE algorithm {algorithm!r} is not one of {sorted(_SSE)}"
            )
        key = default.get("kmsMasterKeyId")
        if key and algorithm == "AES256":
            raise AwsRejected("InvalidArgument: a KMS key cannot be used with AES256")
        by_default = {"SSEAlgorithm": algorithm, **({"KMSMasterKeyID": key} if key else {})}
        if key:
            try:
                b.client("kms").describe_key(KeyId=key)
            except ClientError:
                raise AwsRejected(f"KMS.NotFoundException: key {key!r} does not exist") from None
        out: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": by_default}
        if "bucketKeyEnabled" in rule:
            out["BucketKeyEnabled"] = bool(rule["bucketKeyEnabled"])
        rules.append(out)
    b.client("s3").put_bucket_encryption(
        Bucket=inputs["bucket"], ServerSideEncryptionConfiguration={"Rules": rules}
    )


@handles("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
def _public_access(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    config = {
        "BlockPublicAcls": bool(inputs.get("blockPublicAcls")),
        "IgnorePublicAcls": bool(inputs.get("ignorePublicAcls")),
        "BlockPublicPolicy": bool(inputs.get("blockPublicPolicy")),
        "RestrictPublicBuckets": bool(inputs.get("restrictPublicBuckets")),
    }
    b.client("s3").put_public_access_block(
        Bucket=inputs["bucket"], PublicAccessBlockConfiguration=config
    )
    b.state.setdefault("pab", {})[inputs["bucket"]] = config


def _is_public_statement(st: dict[str, Any]) -> bool:
    principal = st.get("Principal")
    anyone = principal == "*" or (
        isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))
    )
    return st.get("Effect") == "Allow" and anyone and not st.get("Condition")


@handles("aws:s3/bucketPolicy:BucketPolicy")
def _bucket_policy(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    bucket = inputs["bucket"]
    doc = policy_json(inputs.get("policy"), "bucket policy")
    arn = f"arn:{b.ctx.partition}:s3:::{bucket}"
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for st in statements:
        if "Principal" not in st and "NotPrincipal" not in st:
            raise AwsRejected("MalformedPolicy: a bucket policy statement needs a Principal")
        for resource in as_list(st.get("Resource")):
            if not (resource == arn or str(resource).startswith(f"{arn}/")):
                raise AwsRejected(f"MalformedPolicy: Policy has invalid resource {resource!r}")
        pab = b.state.get("pab", {}).get(bucket, {})
        if pab.get("BlockPublicPolicy") and _is_public_statement(st):
            raise AwsRejected(
                "AccessDenied: the public access block of this bucket refuses a public policy"
            )
    b.client("s3").put_bucket_policy(Bucket=bucket, Policy=inputs["policy"])


def _lifecycle_filter(f: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "prefix" in f:
        out["Prefix"] = f["prefix"] or ""
    if f.get("objectSizeGreaterThan") is not None:
        out["ObjectSizeGreaterThan"] = int(f["objectSizeGreaterThan"])
    if f.get("tag"):
        out["Tag"] = {"Key": f["tag"]["key"], "Value": f["tag"]["value"]}
    return out


@handles("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
def _lifecycle(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    rules = []
    for rule in inputs.get("rules") or []:
        out: dict[str, Any] = {"ID": rule.get("id"), "Status": rule.get("status")}
        if rule.get("filter") is not None:
            out["Filter"] = _lifecycle_filter(rule["filter"])
        if rule.get("expiration"):
            out["Expiration"] = {"Days": int(rule["expiration"]["days"])}
        if rule.get("noncurrentVersionExpiration"):
            out["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": int(rule["noncurrentVersionExpiration"]["noncurrentDays"])
            }
        if rule.get("abortIncompleteMultipartUpload"):
            out["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": int(
                    rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"]
                )
            }
        if rule.get("transitions"):
            out["Transitions"] = [
                {"Days": int(t["days"]), "StorageClass": t["storageClass"]}
                for t in rule["transitions"]
            ]
        if out["Status"] not in ("Enabled", "Disabled"):
            raise AwsRejected(f"MalformedXML: lifecycle rule status {out['Status']!r}")
        rules.append(out)
    b.client("s3").put_bucket_lifecycle_configuration(
        Bucket=inputs["bucket"], LifecycleConfiguration={"Rules": rules}
    )


@handles("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
def _ownership(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ownership = (inputs.get("rule") or {}).get("objectOwnership")
    b.client("s3").put_bucket_ownership_controls(
        Bucket=inputs["bucket"],
        OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]},
    )


@handles("aws:s3/bucketLogging:BucketLogging")
def _logging(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    s3 = b.client("s3")
    target = inputs["targetBucket"]
    try:
        s3.head_bucket(Bucket=target)
    except ClientError:
        raise AwsRejected(f"InvalidTargetBucketForLogging: {target!r} does not exist") from None
    s3.put_bucket_logging(
        Bucket=inputs["bucket"],
        BucketLoggingStatus={
            "LoggingEnabled": {
                "TargetBucket": target,
                "TargetPrefix": inputs.get("targetPrefix", ""),
            }
        },
    )
