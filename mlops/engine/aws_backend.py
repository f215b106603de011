"""Create mocked AWS resources in moto too, so AWS's own validation runs offline.

moto accepts some settings AWS refuses (see DESIGN.md: any bucket policy, bad
bucket names, unknown SSE algorithms, versioning status "On"); for those the
handlers below check what the AWS API checks before calling moto.

moto picks its own random IDs (KMS keys); the plan prints deterministic ones.
`Backend.alias` records ours → moto's so later calls that reference a resource
are translated before they reach moto.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError, ParamValidationError
from moto import mock_aws

from mlops.engine.fakes import Ctx


class AwsRejected(Exception):
    """AWS (as moto or our checks model it) would refuse this resource."""


Handler = Callable[["Backend", str, dict[str, Any], dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for t in types:
            HANDLERS[t] = fn
        return fn

    return register


class Backend:
    """One moto account for one plan."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self._mock = mock_aws()
        self._clients: dict[str, Any] = {}
        self._aliases: dict[str, str] = {}
        self.state: dict[str, dict[str, Any]] = {}  # per-handler scratch (e.g. PAB per bucket)

    def __enter__(self) -> Backend:
        self._mock.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._mock.stop()

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.ctx.region)
        return self._clients[service]

    def alias(self, ours: str, theirs: str) -> None:
        if ours and theirs and ours != theirs:
            self._aliases[ours] = theirs

    def translate(self, value: Any) -> Any:
        """Replace our IDs/ARNs by moto's, also inside JSON strings."""
        if isinstance(value, str):
            for ours, theirs in self._aliases.items():
                if ours in value:
                    value = value.replace(ours, theirs)
            return value
        if isinstance(value, dict):
            return {k: self.translate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.translate(v) for v in value]
        return value

    def apply(self, typ: str, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> bool:
        """Create the resource in moto; False when moto does not model this type."""
        handler = HANDLERS.get(typ)
        if handler is None:
            return False
        try:
            handler(self, name, self.translate(inputs), state)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise AwsRejected(f"{err.get('Code', 'Error')}: {err.get('Message', exc)}") from None
        except ParamValidationError as exc:
            raise AwsRejected(str(exc).replace("\n", " ")) from None
        except AwsRejected:
            raise
        except Exception as exc:  # a moto defect must still name the resource, not crash
            raise AwsRejected(f"moto could not model it ({type(exc).__name__}: {exc})") from None
        return True


def _tags(inputs: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": str(v)} for k, v in sorted((inputs.get("tags") or {}).items())]


def _policy_json(text: Any, what: str) -> dict[str, Any]:
    """Parse a policy document the way IAM/S3 do before accepting it."""
    if not isinstance(text, str):
        raise AwsRejected(f"MalformedPolicyDocument: {what} must be a JSON string")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AwsRejected(
            f"MalformedPolicyDocument: {what} is not valid JSON ({exc.msg})"
        ) from None
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise AwsRejected(f"MalformedPolicyDocument: {what} has no Statement")
    if doc.get("Version") not in ("2012-10-17", "2008-10-17"):
        raise AwsRejected(f"MalformedPolicyDocument: {what} has an invalid Version")
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for i, st in enumerate(statements):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            raise AwsRejected(f"MalformedPolicyDocument: {what} statement {i} needs Effect")
        if "Action" not in st and "NotAction" not in st:
            raise AwsRejected(f"MalformedPolicyDocument: {what} statement {i} has no Action")
    return doc


# ---------------------------------------------------------------- S3

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
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tags(inputs)})


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
        isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))
    )
    return st.get("Effect") == "Allow" and anyone and not st.get("Condition")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@handles("aws:s3/bucketPolicy:BucketPolicy")
def _bucket_policy(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    bucket = inputs["bucket"]
    doc = _policy_json(inputs.get("policy"), "bucket policy")
    arn = f"arn:{b.ctx.partition}:s3:::{bucket}"
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for st in statements:
        if "Principal" not in st and "NotPrincipal" not in st:
            raise AwsRejected("MalformedPolicy: a bucket policy statement needs a Principal")
        for resource in _as_list(st.get("Resource")):
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


# ---------------------------------------------------------------- KMS


@handles("aws:kms/key:Key")
def _kms_key(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    kms = b.client("kms")
    kwargs: dict[str, Any] = {
        "Description": inputs.get("description", ""),
        "KeyUsage": inputs.get("keyUsage", "ENCRYPT_DECRYPT"),
        "KeySpec": inputs.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT"),
    }
    if inputs.get("policy"):
        _policy_json(inputs["policy"], "key policy")
        kwargs["Policy"] = inputs["policy"]
    if inputs.get("tags"):
        kwargs["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in _tags(inputs)]
    window = inputs.get("deletionWindowInDays")
    if window is not None and not 7 <= int(window) <= 30:
        raise AwsRejected(f"ValidationException: deletion window {window} is not 7..30 days")
    meta = kms.create_key(**kwargs)["KeyMetadata"]
    b.alias(state["keyId"], meta["KeyId"])
    b.alias(state["arn"], meta["Arn"])
    if inputs.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=meta["KeyId"])


@handles("aws:kms/alias:Alias")
def _kms_alias(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    alias = state["name"]
    if not alias.startswith("alias/") or alias.startswith("alias/aws/"):
        raise AwsRejected(
            f"InvalidAliasNameException: {alias!r} must start with alias/ (not alias/aws/)"
        )
    b.client("kms").create_alias(AliasName=alias, TargetKeyId=inputs["targetKeyId"])


# ---------------------------------------------------------------- IAM


@handles("aws:iam/role:Role")
def _role(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    iam = b.client("iam")
    trust = inputs.get("assumeRolePolicy")
    doc = _policy_json(trust, "trust policy")
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for i, st in enumerate(statements):
        if "Principal" not in st:
            raise AwsRejected(
                f"MalformedPolicyDocument: trust policy statement {i} has no Principal"
            )
        if "Resource" in st or "NotResource" in st:
            raise AwsRejected("MalformedPolicyDocument: Has prohibited field Resource")
    kwargs: dict[str, Any] = {
        "RoleName": state["name"],
        "AssumeRolePolicyDocument": trust,
        "Path": inputs.get("path") or "/",
    }
    if inputs.get("description"):
        kwargs["Description"] = inputs["description"]
    if inputs.get("maxSessionDuration"):
        kwargs["MaxSessionDuration"] = int(inputs["maxSessionDuration"])
    if inputs.get("tags"):
        kwargs["Tags"] = _tags(inputs)
    iam.create_role(**kwargs)
    # moto validates trust policies only here (DESIGN.md), so send it again.
    iam.update_assume_role_policy(RoleName=state["name"], PolicyDocument=trust)
    for inline in inputs.get("inlinePolicies") or []:
        if inline.get("policy"):
            iam.put_role_policy(
                RoleName=state["name"], PolicyName=inline["name"], PolicyDocument=inline["policy"]
            )


@handles("aws:iam/policy:Policy")
def _policy(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    _policy_json(inputs.get("policy"), "policy")
    b.client("iam").create_policy(
        PolicyName=state["name"],
        Path=inputs.get("path") or "/",
        PolicyDocument=inputs["policy"],
        Description=inputs.get("description", ""),
    )


@handles("aws:iam/rolePolicy:RolePolicy")
def _role_policy(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    _policy_json(inputs.get("policy"), "inline policy")
    b.client("iam").put_role_policy(
        RoleName=inputs["role"], PolicyName=state["name"], PolicyDocument=inputs["policy"]
    )


@handles("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def _attachment(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    b.client("iam").attach_role_policy(RoleName=inputs["role"], PolicyArn=inputs["policyArn"])


@handles("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    url = inputs["url"]
    b.client("iam").create_open_id_connect_provider(
        Url=url if url.startswith("https://") else f"https://{url}",
        ClientIDList=inputs.get("clientIdLists") or [],
        ThumbprintList=inputs.get("thumbprintLists") or [],
        Tags=_tags(inputs),
    )
