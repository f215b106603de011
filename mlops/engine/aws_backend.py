"""Create mocked AWS resources in moto too, so AWS's own validation runs offline.

moto accepts some settings AWS refuses (see DESIGN.md: any bucket policy, bad
bucket names, unknown SSE algorithms, versioning status "On"); for those the
handlers below check what the AWS API checks before calling moto.

moto picks its own random IDs (KMS keys); the plan prints deterministic ones.
`Backend.alias` records ours → moto's so later calls that reference a resource
are translated before they reach moto.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from mlops.engine import venv_cache
from mlops.engine.fakes import Ctx
from mlops.engine.values import SECRET_SIG, SIG_KEY


class AwsRejected(Exception):
    """AWS (as moto or our checks model it) would refuse this resource."""


Handler = Callable[["Backend", str, dict[str, Any], dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}
# invoke token -> makes what a look-up found exist in moto (it exists in the account)
Adopter = Callable[["Backend", dict[str, Any], dict[str, Any]], None]
ADOPTERS: dict[str, Adopter] = {}


def adopts(*tokens: str) -> Callable[[Adopter], Adopter]:
    def register(fn: Adopter) -> Adopter:
        for t in tokens:
            ADOPTERS[t] = fn
        return fn

    return register


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for t in types:
            HANDLERS[t] = fn
        return fn

    return register


_SYMMETRIC_STAND_IN: list[Any] = []
_SPED_UP: list[bool] = []  # once per process
# boto3 clients hold no moto state (moto's backends are process-wide), and building one
# copies botocore's whole event-handler table (~60 ms each here): one per service and
# region for the life of the process.
_CLIENTS: dict[tuple[str, str], Any] = {}


def _session() -> Any:
    """The one boto3 session moto lists regions with; our clients use it too, so each
    service model is parsed once for both (botocore caches per session)."""
    from moto.core.base_backend import AccountSpecificBackend

    return AccountSpecificBackend.get_session()


# botocore's service models and moto's bundled data (instance types, offerings per
# region, AWS-managed policies) are parsed from JSON in every process: ~0.5 s of the
# helper's start. Kept parsed (pickled) in the venv, they load ~4x faster.
_PARSED = venv_cache.FileCache(
    "parsed-json", functools.partial(pickle.dumps, protocol=pickle.HIGHEST_PROTOCOL),
    pickle.loads)


def _parsed(path: str, parse: Callable[[], Any]) -> Any:
    cached = _PARSED.get(path, parse)
    return parse() if cached is None else cached


def _cache_parsed_json(loader: Any) -> None:
    """botocore's loader and moto's `load_resource` read parsed documents from the venv."""
    from botocore.loaders import JSONFileLoader
    from moto.utilities import utils

    class CachedJSONFileLoader(JSONFileLoader):
        def _load_file(self, full_path: str, open_method: Any) -> Any:
            if not os.path.isfile(full_path):
                return None
            return _parsed(full_path, lambda: super(CachedJSONFileLoader, self)._load_file(
                full_path, open_method))

    loader.file_loader = CachedJSONFileLoader()
    original = utils.load_resource
    moto_dir = Path(utils.__file__).parents[1]

    def load_resource(resource: str) -> Any:
        # as moto's own: the compressed file first
        for name in dict.fromkeys([resource if resource.endswith(".gz") else f"{resource}.gz",
                                   resource]):
            if (moto_dir / name).is_file():
                return _parsed(str(moto_dir / name), lambda: original(resource))
        return original(resource)

    utils.load_resource = load_resource


def _aws_managed_policies() -> dict[str, Any]:
    """AWS's managed policies as moto bundles them (read-only; once per process)."""
    if not _AWS_MANAGED_DATA:
        from moto.iam import aws_managed_policies

        _AWS_MANAGED_DATA.update(_parsed(
            str(aws_managed_policies.__file__),
            lambda: json.loads(aws_managed_policies.aws_managed_policies_data)))
    return _AWS_MANAGED_DATA


def _speed_up_moto() -> None:
    """Remove moto's repeated work that is most of a plan's time (measured: ~1.5 s of 3).

    * moto parses every service model a second time, after botocore (~60 ms each), and
      lists a response class's methods anew on every request.
    * moto generates an RSA-2048 private key for every KMS key, symmetric ones too
      (~0.1 s each), though only asymmetric keys ever sign: symmetric keys share one
      P-256 key (~1 ms), which nothing reads.
    * moto.ec2 lists regions at import through three fresh boto3 sessions (the EC2
      model, the biggest AWS has, parsed three times) and moto.eks parses the endpoint
      table on every cluster and node group through another fresh session: both get
      the shared session instead. Results are the same; only the parsing is shared.
    """
    import boto3
    from moto.core import responses
    from moto.core import utils as core_utils
    from moto.eks import utils as eks_utils
    from moto.kms import models, utils

    if _SPED_UP:
        return
    shared = _session()
    # moto parses each service model again with a loader of its own; botocore's
    # loader caches what our clients already parsed
    loader = shared._session.get_component("data_loader")
    _cache_parsed_json(loader)
    core_utils._load_service_model = loader.load_service_model
    # moto lists a response class's methods (inspect.getmembers) on every request
    responses.method_names_from_class = functools.cache(core_utils.method_names_from_class)
    fresh = boto3.Session
    boto3.Session = lambda *a, **k: shared if not a and not k else fresh(*a, **k)
    try:
        import moto.ec2.models  # noqa: F401  (its import-time region list uses the shared session)
    finally:
        boto3.Session = fresh
    eks_utils.Session = lambda: shared
    original = utils.generate_private_key

    def generate(key_spec: str) -> Any:
        if key_spec not in ("SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"):
            return original(key_spec)
        if not _SYMMETRIC_STAND_IN:
            from cryptography.hazmat.primitives.asymmetric import ec

            _SYMMETRIC_STAND_IN.append(ec.generate_private_key(ec.SECP256R1()))
        return _SYMMETRIC_STAND_IN[0]

    models.generate_private_key = generate
    _SPED_UP.append(True)


def client(service: str, region: str) -> Any:
    """The process's boto3 client for moto. Requests are not signed: moto checks no
    signature, and SigV4 was a fifth of each request's time."""
    from botocore import UNSIGNED
    from botocore.config import Config

    key = (service, region)
    if key not in _CLIENTS:
        _CLIENTS[key] = _session().client(
            service, region_name=region, config=Config(signature_version=UNSIGNED))
    return _CLIENTS[key]


_AMIS_SETTING = "MOTO_EC2_LOAD_DEFAULT_AMIS"
# one read-only request per service: loads what moto loads on first use (its own copy of
# the service model, URL routes, the region's backend)
_WARM_UP_CALLS = {
    "s3": "list_buckets", "kms": "list_keys", "iam": "list_roles", "ec2": "describe_vpcs",
    "rds": "describe_db_instances", "elasticache": "describe_replication_groups",
    "dynamodb": "list_tables", "secretsmanager": "list_secrets", "eks": "list_clusters",
    "ecr": "describe_repositories", "logs": "describe_log_groups",
    "codebuild": "list_projects",
}


def warm_up(region: str) -> None:
    """Do now the once-per-process work a first plan would otherwise wait for: moto's
    imports, botocore clients, moto's first request per service, the managed-policy
    list. The next `Backend` starts from an empty account all the same."""
    from moto import mock_aws

    _speed_up_moto()
    _aws_managed_policies()
    with mock_aws():
        for service, call in _WARM_UP_CALLS.items():
            getattr(client(service, region), call)()


class Backend:
    """One moto account for one plan."""

    def __init__(self, ctx: Ctx) -> None:
        from moto import mock_aws  # ~1 s of imports, only where moto runs (aws_worker.py)

        self.ctx = ctx
        self._mock = mock_aws()
        self._saved_amis_setting: str | None = None
        self._aliases: dict[str, str] = {}
        self.state: dict[str, dict[str, Any]] = {}  # per-handler scratch (e.g. PAB per bucket)
        # The mock monitor registers resources from a thread pool: one call into moto
        # at a time keeps aliases consistent, builds each boto3 client once, and is
        # faster than threads contending for the GIL.
        self._lock = threading.RLock()

    def __enter__(self) -> Backend:
        _speed_up_moto()
        # moto loads ~1,300 public AMIs into every EC2 region it touches (~0.2 s each);
        # nothing the platform creates looks an AMI up.
        self._saved_amis_setting = os.environ.get(_AMIS_SETTING)
        os.environ[_AMIS_SETTING] = "false"
        self._mock.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._mock.stop()
        if self._saved_amis_setting is None:
            os.environ.pop(_AMIS_SETTING, None)
        else:
            os.environ[_AMIS_SETTING] = self._saved_amis_setting

    def client(self, service: str) -> Any:
        return client(service, self.ctx.region)

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
        with self._lock:
            self._apply(handler, name, inputs, state)
        return True

    def adopt(self, token: str, args: dict[str, Any], result: dict[str, Any]) -> None:
        """After a look-up invoke: make the resource it found exist in moto."""
        adopter = ADOPTERS.get(token)
        if adopter is None:
            return
        with self._lock:
            adopter(self, args, result)

    def _apply(
        self, handler: Handler, name: str, inputs: dict[str, Any], state: dict[str, Any]
    ) -> None:
        try:
            handler(self, name, self.translate(reveal(inputs)), state)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise AwsRejected(f"{err.get('Code', 'Error')}: {err.get('Message', exc)}") from None
        except ParamValidationError as exc:
            raise AwsRejected(str(exc).replace("\n", " ")) from None
        except AwsRejected:
            raise
        except Exception as exc:  # a moto defect must still name the resource, not crash
            raise AwsRejected(f"moto could not model it ({type(exc).__name__}: {exc})") from None


def reveal(value: Any) -> Any:
    """Inputs with Pulumi secrets unwrapped: AWS receives the plaintext (moto too)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return reveal(value.get("value"))
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


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

# IAM's quotas on policy sizes, which moto does not enforce (IAM counts no white space):
# docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
MANAGED_POLICY_MAX = 6144
ROLE_INLINE_MAX = 10240  # all of a role's inline policies together
TRUST_POLICY_MAX = 2048  # the default; a quota increase allows up to 4,096


def _iam_size(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def _within(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise AwsRejected(f"LimitExceeded: Cannot exceed quota for {what}: {limit} ({size})")


def _put_inline(b: Backend, role: str, policy: str, document: str) -> None:
    """PutRolePolicy, refused as IAM refuses it when the role's inline policies together
    exceed their quota (a policy put again under its name replaces the old one)."""
    iam = b.client("iam")
    size = _iam_size(document)
    for other in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        if other != policy:
            held = iam.get_role_policy(RoleName=role, PolicyName=other)["PolicyDocument"]
            size += _iam_size(held if isinstance(held, str) else json.dumps(held))
    _within(size, ROLE_INLINE_MAX, "PolicySize (aggregate inline policies of the role)")
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=document)


@handles("aws:iam/role:Role")
def _role(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    iam = b.client("iam")
    trust = inputs.get("assumeRolePolicy")
    doc = _policy_json(trust, "trust policy")
    _within(_iam_size(str(trust)), TRUST_POLICY_MAX, "ACLSizePerRole (the trust policy)")
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
            _put_inline(b, state["name"], inline["name"], inline["policy"])


@handles("aws:iam/policy:Policy")
def _policy(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    _policy_json(inputs.get("policy"), "policy")
    _within(_iam_size(inputs["policy"]), MANAGED_POLICY_MAX, "PolicySize")
    b.client("iam").create_policy(
        PolicyName=state["name"],
        Path=inputs.get("path") or "/",
        PolicyDocument=inputs["policy"],
        Description=inputs.get("description", ""),
    )


@handles("aws:iam/rolePolicy:RolePolicy")
def _role_policy(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    _policy_json(inputs.get("policy"), "inline policy")
    _put_inline(b, inputs["role"], state["name"], inputs["policy"])


_AWS_MANAGED = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy(/.*/|/)([^/]+)$")


_AWS_MANAGED_DATA: dict[str, Any] = {}


def _ensure_aws_managed_policy(b: Backend, arn: str) -> None:
    """Make one AWS-managed policy exist in moto, if AWS has it.

    moto loads AWS-managed policies only when configured to, and then all ~1,300 of
    them per plan (slow); this adds just the one named, from moto's bundled copy of
    AWS's list, so an ARN with a wrong name or path still fails as in AWS.
    """
    match = _AWS_MANAGED.match(arn)
    if not match:
        return
    from moto.iam.models import AWSManagedPolicy, iam_backends

    data = _aws_managed_policies().get(match.group(2))
    if data is None or data.get("Path") != match.group(1):
        return  # moto then refuses the attachment as AWS would
    backend = iam_backends[b.ctx.account][b.ctx.partition]
    if arn not in backend.managed_policies:
        policy = AWSManagedPolicy.from_data(match.group(2), b.ctx.account, "us-east-1", data)
        backend.managed_policies[policy.arn] = policy


@handles("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def _attachment(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    _ensure_aws_managed_policy(b, inputs["policyArn"])
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


# ---------------------------------------------------------------- EC2 / VPC


def _tag_spec(kind: str, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    tags = _tags(inputs)
    return [{"ResourceType": kind, "Tags": tags}] if tags else []


@handles("aws:ec2/vpc:Vpc")
def _vpc(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ec2 = b.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=inputs["cidrBlock"], TagSpecifications=_tag_spec("vpc", inputs))[
        "Vpc"
    ]
    b.alias(state["id"], vpc["VpcId"])
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        if attribute in inputs:
            key = attribute[0].upper() + attribute[1:]
            ec2.modify_vpc_attribute(
                VpcId=vpc["VpcId"], **{key: {"Value": bool(inputs[attribute])}}
            )
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    if groups:
        b.alias(state["defaultSecurityGroupId"], groups[0]["GroupId"])


@handles("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
def _default_sg(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    """Adopt the VPC's default group and leave it with exactly the declared rules."""
    ec2 = b.client("ec2")
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [inputs["vpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    if not groups:
        raise AwsRejected(f"InvalidVpcID.NotFound: {inputs['vpcId']!r} has no default group")
    group = groups[0]
    b.alias(state["id"], group["GroupId"])
    if group.get("IpPermissions") and not inputs.get("ingress"):
        ec2.revoke_security_group_ingress(
            GroupId=group["GroupId"], IpPermissions=group["IpPermissions"]
        )
    if group.get("IpPermissionsEgress") and not inputs.get("egress"):
        ec2.revoke_security_group_egress(
            GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"]
        )


@handles("aws:ec2/subnet:Subnet")
def _subnet(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "VpcId": inputs["vpcId"],
        "CidrBlock": inputs["cidrBlock"],
        "TagSpecifications": _tag_spec("subnet", inputs),
    }
    if inputs.get("availabilityZone"):
        kwargs["AvailabilityZone"] = inputs["availabilityZone"]
    subnet = b.client("ec2").create_subnet(**kwargs)["Subnet"]
    b.alias(state["id"], subnet["SubnetId"])


@handles("aws:ec2/internetGateway:InternetGateway")
def _igw(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ec2 = b.client("ec2")
    igw = ec2.create_internet_gateway(TagSpecifications=_tag_spec("internet-gateway", inputs))
    igw_id = igw["InternetGateway"]["InternetGatewayId"]
    b.alias(state["id"], igw_id)
    if inputs.get("vpcId"):
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=inputs["vpcId"])


@handles("aws:ec2/routeTable:RouteTable")
def _route_table(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    table = b.client("ec2").create_route_table(
        VpcId=inputs["vpcId"], TagSpecifications=_tag_spec("route-table", inputs)
    )["RouteTable"]
    b.alias(state["id"], table["RouteTableId"])


_ROUTE_TARGETS = {
    "gatewayId": "GatewayId",
    "natGatewayId": "NatGatewayId",
    "vpcEndpointId": "VpcEndpointId",
    "networkInterfaceId": "NetworkInterfaceId",
    "transitGatewayId": "TransitGatewayId",
    "vpcPeeringConnectionId": "VpcPeeringConnectionId",
}


@handles("aws:ec2/route:Route")
def _route(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    targets = {api: inputs[ours] for ours, api in _ROUTE_TARGETS.items() if inputs.get(ours)}
    if len(targets) != 1:
        raise AwsRejected(
            f"InvalidParameterCombination: a route needs exactly one target, got {sorted(targets)}"
        )
    ec2 = b.client("ec2")
    if "NatGatewayId" in targets:
        # moto accepts any NAT id; AWS needs an existing gateway
        found = ec2.describe_nat_gateways(NatGatewayIds=[targets["NatGatewayId"]])["NatGateways"]
        if not found:
            raise AwsRejected(f"InvalidNatGatewayID.NotFound: {targets['NatGatewayId']!r}")
    ec2.create_route(
        RouteTableId=inputs["routeTableId"],
        DestinationCidrBlock=inputs["destinationCidrBlock"],
        **targets,
    )


@handles("aws:ec2/routeTableAssociation:RouteTableAssociation")
def _rt_association(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    assoc = b.client("ec2").associate_route_table(
        RouteTableId=inputs["routeTableId"], SubnetId=inputs["subnetId"]
    )
    b.alias(state["id"], assoc["AssociationId"])


@handles("aws:ec2/eip:Eip")
def _eip(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    if inputs.get("domain", "vpc") != "vpc":
        raise AwsRejected(f"InvalidParameterValue: EIP domain {inputs.get('domain')!r}")
    eip = b.client("ec2").allocate_address(
        Domain="vpc", TagSpecifications=_tag_spec("elastic-ip", inputs)
    )
    b.alias(state["allocationId"], eip["AllocationId"])


@handles("aws:ec2/natGateway:NatGateway")
def _nat(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    connectivity = inputs.get("connectivityType", "public")
    kwargs: dict[str, Any] = {
        "SubnetId": inputs["subnetId"],
        "ConnectivityType": connectivity,
        "TagSpecifications": _tag_spec("natgateway", inputs),
    }
    if connectivity == "public":
        if not inputs.get("allocationId"):
            raise AwsRejected("MissingParameter: a public NAT gateway needs an allocation ID")
        kwargs["AllocationId"] = inputs["allocationId"]
    nat = b.client("ec2").create_nat_gateway(**kwargs)["NatGateway"]
    b.alias(state["id"], nat["NatGatewayId"])


@handles("aws:ec2/vpcEndpoint:VpcEndpoint")
def _vpc_endpoint(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    kind = inputs.get("vpcEndpointType", "Gateway")
    service = inputs["serviceName"]
    if not re.match(rf"^com\.amazonaws\.{re.escape(b.ctx.region)}\.[a-z0-9.-]+$", service):
        raise AwsRejected(f"InvalidServiceName: {service!r} is not a service of {b.ctx.region}")
    if kind == "Gateway" and service.rsplit(".", 1)[-1] not in ("s3", "dynamodb"):
        raise AwsRejected(f"InvalidParameter: {service!r} has no gateway endpoint")
    if kind == "Interface" and not inputs.get("subnetIds"):
        raise AwsRejected("InvalidParameter: an interface endpoint needs subnets")
    kwargs: dict[str, Any] = {
        "VpcId": inputs["vpcId"],
        "ServiceName": service,
        "VpcEndpointType": kind,
        "TagSpecifications": _tag_spec("vpc-endpoint", inputs),
    }
    for ours, api in (
        ("routeTableIds", "RouteTableIds"),
        ("subnetIds", "SubnetIds"),
        ("securityGroupIds", "SecurityGroupIds"),
    ):
        if inputs.get(ours):
            kwargs[api] = inputs[ours]
    if "privateDnsEnabled" in inputs and kind == "Interface":
        kwargs["PrivateDnsEnabled"] = bool(inputs["privateDnsEnabled"])
    endpoint = b.client("ec2").create_vpc_endpoint(**kwargs)["VpcEndpoint"]
    b.alias(state["id"], endpoint["VpcEndpointId"])


@handles("aws:ec2/securityGroup:SecurityGroup")
def _security_group(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ec2 = b.client("ec2")
    kwargs: dict[str, Any] = {
        "GroupName": state["name"],
        "Description": inputs.get("description") or "Managed by Pulumi",
        "TagSpecifications": _tag_spec("security-group", inputs),
    }
    if inputs.get("vpcId"):
        kwargs["VpcId"] = inputs["vpcId"]
    group_id = ec2.create_security_group(**kwargs)["GroupId"]
    b.alias(state["id"], group_id)
    if not inputs.get("egress"):
        # the provider removes AWS's default allow-all egress when none is declared
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        if group.get("IpPermissionsEgress"):
            ec2.revoke_security_group_egress(
                GroupId=group_id, IpPermissions=group["IpPermissionsEgress"]
            )


def _permission(inputs: dict[str, Any]) -> dict[str, Any]:
    protocol = str(inputs.get("ipProtocol", ""))
    perm: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        if inputs.get("fromPort") is None or inputs.get("toPort") is None:
            raise AwsRejected(f"MissingParameter: protocol {protocol!r} needs from/to ports")
        perm["FromPort"], perm["ToPort"] = int(inputs["fromPort"]), int(inputs["toPort"])
    sources = [
        k
        for k in ("cidrIpv4", "cidrIpv6", "referencedSecurityGroupId", "prefixListId")
        if inputs.get(k)
    ]
    if len(sources) != 1:
        raise AwsRejected(f"InvalidParameterCombination: one source needed, got {sources}")
    extra = {"Description": inputs["description"]} if inputs.get("description") else {}
    if inputs.get("cidrIpv4"):
        perm["IpRanges"] = [{"CidrIp": inputs["cidrIpv4"], **extra}]
    elif inputs.get("cidrIpv6"):
        perm["Ipv6Ranges"] = [{"CidrIpv6": inputs["cidrIpv6"], **extra}]
    elif inputs.get("referencedSecurityGroupId"):
        perm["UserIdGroupPairs"] = [{"GroupId": inputs["referencedSecurityGroupId"], **extra}]
    else:
        perm["PrefixListIds"] = [{"PrefixListId": inputs["prefixListId"], **extra}]
    return perm


@handles("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
def _ingress(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ec2 = b.client("ec2")
    perm = _permission(inputs)
    for pair in perm.get("UserIdGroupPairs", []):
        ec2.describe_security_groups(GroupIds=[pair["GroupId"]])  # AWS: InvalidGroup.NotFound
    result = ec2.authorize_security_group_ingress(
        GroupId=inputs["securityGroupId"], IpPermissions=[perm]
    )
    rules = result.get("SecurityGroupRules") or []
    if rules:
        b.alias(state["id"], rules[0]["SecurityGroupRuleId"])


@handles("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
def _egress(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    b.client("ec2").authorize_security_group_egress(
        GroupId=inputs["securityGroupId"], IpPermissions=[_permission(inputs)]
    )


def _flag(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise AwsRejected(f"InvalidParameterValue: {value!r} is not true or false")
        return value == "true"
    return bool(value)


def _launch_template_data(inputs: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    meta = inputs.get("metadataOptions")
    if meta:
        tokens = meta.get("httpTokens")
        if tokens not in (None, "optional", "required"):
            raise AwsRejected(f"InvalidParameterValue: httpTokens {tokens!r}")
        hops = meta.get("httpPutResponseHopLimit")
        if hops is not None and not 1 <= int(hops) <= 64:
            raise AwsRejected(f"InvalidParameterValue: hop limit {hops} is not 1..64")
        data["MetadataOptions"] = {
            k: v
            for k, v in {
                "HttpTokens": tokens,
                "HttpPutResponseHopLimit": int(hops) if hops is not None else None,
                "HttpEndpoint": meta.get("httpEndpoint"),
            }.items()
            if v is not None
        }
    mappings = []
    for m in inputs.get("blockDeviceMappings") or []:
        ebs = m.get("ebs") or {}
        volume_type = ebs.get("volumeType")
        if volume_type and volume_type not in (
            "gp2",
            "gp3",
            "io1",
            "io2",
            "st1",
            "sc1",
            "standard",
        ):
            raise AwsRejected(f"InvalidParameterValue: volume type {volume_type!r}")
        mappings.append(
            {
                "DeviceName": m.get("deviceName"),
                "Ebs": {
                    k: v
                    for k, v in {
                        "VolumeSize": int(ebs["volumeSize"]) if ebs.get("volumeSize") else None,
                        "VolumeType": volume_type,
                        # the provider takes these as "true"/"false" strings
                        "Encrypted": _flag(ebs.get("encrypted")),
                        "DeleteOnTermination": _flag(ebs.get("deleteOnTermination")),
                    }.items()
                    if v is not None
                },
            }
        )
    if mappings:
        data["BlockDeviceMappings"] = mappings
    return data


@handles("aws:ec2/launchTemplate:LaunchTemplate")
def _launch_template(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    template_name = inputs.get("name") or state["id"]
    template = b.client("ec2").create_launch_template(
        LaunchTemplateName=template_name, LaunchTemplateData=_launch_template_data(inputs)
    )["LaunchTemplate"]
    b.alias(state["id"], template["LaunchTemplateId"])


@handles("aws:ec2/flowLog:FlowLog")
def _flow_log(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    resource = next(
        (
            (kind, inputs[key])
            for key, kind in (
                ("vpcId", "VPC"),
                ("subnetId", "Subnet"),
                ("eniId", "NetworkInterface"),
            )
            if inputs.get(key)
        ),
        None,
    )
    if resource is None:
        raise AwsRejected("MissingParameter: a flow log needs a VPC, subnet or ENI")
    destination_type = inputs.get("logDestinationType", "cloud-watch-logs")
    interval = int(inputs.get("maxAggregationInterval") or 600)
    if interval not in (60, 600):
        raise AwsRejected(f"InvalidParameter: max aggregation interval {interval} is not 60/600")
    kwargs: dict[str, Any] = {
        "ResourceIds": [resource[1]],
        "ResourceType": resource[0],
        "TrafficType": inputs.get("trafficType", "ALL"),
        "LogDestinationType": destination_type,
        "LogDestination": inputs["logDestination"],
        "MaxAggregationInterval": interval,
    }
    if destination_type == "cloud-watch-logs":
        if not inputs.get("iamRoleArn"):
            raise AwsRejected("InvalidParameter: CloudWatch Logs delivery needs iamRoleArn")
        kwargs["DeliverLogsPermissionArn"] = inputs["iamRoleArn"]
        # moto checks the group only when named (AWS takes either form): name it
        group = str(inputs["logDestination"]).split(":log-group:", 1)
        if len(group) == 2:
            del kwargs["LogDestination"]
            kwargs["LogGroupName"] = group[1].removesuffix(":*")
    result = b.client("ec2").create_flow_logs(**kwargs)
    if result.get("Unsuccessful"):
        error = result["Unsuccessful"][0]["Error"]
        raise AwsRejected(f"{error['Code']}: {error['Message']}")
    b.alias(state["id"], result["FlowLogIds"][0])


# ---------------------------------------------------------------- CloudWatch Logs

# the only retention values CloudWatch Logs accepts
_RETENTION_DAYS = {
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
}


@handles("aws:cloudwatch/logGroup:LogGroup")
def _log_group(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    logs = b.client("logs")
    group = state["name"]
    kwargs: dict[str, Any] = {"logGroupName": group}
    if inputs.get("kmsKeyId"):
        b.client("kms").describe_key(KeyId=inputs["kmsKeyId"])  # AWS refuses unknown keys
        kwargs["kmsKeyId"] = inputs["kmsKeyId"]
    if inputs.get("tags"):
        kwargs["tags"] = {k: str(v) for k, v in inputs["tags"].items()}
    retention = inputs.get("retentionInDays")
    if retention and int(retention) not in _RETENTION_DAYS:
        raise AwsRejected(
            f"InvalidParameterException: retention {retention} days is not one of "
            f"{sorted(_RETENTION_DAYS)}"
        )
    logs.create_log_group(**kwargs)
    if retention:
        logs.put_retention_policy(logGroupName=group, retentionInDays=int(retention))


# ---------------------------------------------------------------- EKS


def _subnet_zones(b: Backend, subnet_ids: list[str]) -> tuple[set[str], set[str]]:
    """(zones, VPCs) of existing subnets; AWS-style error for unknown ones."""
    subnets = b.client("ec2").describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    return {s["AvailabilityZone"] for s in subnets}, {s["VpcId"] for s in subnets}


@handles("aws:eks/cluster:Cluster")
def _eks_cluster(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    vpc = inputs.get("vpcConfig") or {}
    subnets = vpc.get("subnetIds") or []
    zones, vpcs = _subnet_zones(b, subnets)
    if len(zones) < 2:
        raise AwsRejected(
            "InvalidParameterException: Subnets specified must be in at least two different AZs"
        )
    if not vpc.get("endpointPrivateAccess", False) and not vpc.get("endpointPublicAccess", True):
        raise AwsRejected("InvalidParameterException: the endpoint must be public or private")
    role = inputs["roleArn"].rsplit("/", 1)[-1]
    b.client("iam").get_role(RoleName=role)  # NoSuchEntity as in AWS
    encryption = []
    for config in [inputs["encryptionConfig"]] if inputs.get("encryptionConfig") else []:
        key = (config.get("provider") or {}).get("keyArn")
        b.client("kms").describe_key(KeyId=key)
        encryption.append({"resources": config.get("resources"), "provider": {"keyArn": key}})
    kwargs: dict[str, Any] = {
        "name": state["name"],
        "roleArn": inputs["roleArn"],
        "resourcesVpcConfig": {
            "subnetIds": subnets,
            "endpointPublicAccess": bool(vpc.get("endpointPublicAccess", True)),
            "endpointPrivateAccess": bool(vpc.get("endpointPrivateAccess", False)),
            **(
                {"publicAccessCidrs": vpc["publicAccessCidrs"]}
                if vpc.get("publicAccessCidrs")
                else {}
            ),
        },
        "logging": {
            "clusterLogging": [
                {"types": inputs.get("enabledClusterLogTypes") or [], "enabled": True}
            ]
        },
    }
    if inputs.get("version"):
        kwargs["version"] = inputs["version"]
    if encryption:
        kwargs["encryptionConfig"] = encryption
    if inputs.get("tags"):
        kwargs["tags"] = {k: str(v) for k, v in inputs["tags"].items()}
    b.client("eks").create_cluster(**kwargs)
    # EKS creates the cluster security group (nodes and pods use it); moto does not.
    sg = b.client("ec2").create_security_group(
        GroupName=f"eks-cluster-sg-{state['name']}",
        Description="EKS created security group applied to ENI that is attached to EKS "
        "Control Plane master nodes, as well as any managed workloads.",
        VpcId=next(iter(vpcs)),
    )
    b.alias(state["vpcConfig"]["clusterSecurityGroupId"], sg["GroupId"])


@handles("aws:eks/nodeGroup:NodeGroup")
def _node_group(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    scaling = inputs.get("scalingConfig") or {}
    low, want, high = (int(scaling.get(k, 0)) for k in ("minSize", "desiredSize", "maxSize"))
    if high < 1 or not low <= want <= high:
        raise AwsRejected(
            f"InvalidParameterException: scaling {low}/{want}/{high} needs "
            "min <= desired <= max and max >= 1"
        )
    capacity = inputs.get("capacityType", "ON_DEMAND")
    if capacity not in ("ON_DEMAND", "SPOT", "CAPACITY_BLOCK"):
        raise AwsRejected(f"InvalidParameterException: capacity type {capacity!r}")
    b.client("iam").get_role(RoleName=inputs["nodeRoleArn"].rsplit("/", 1)[-1])
    kwargs: dict[str, Any] = {
        "clusterName": inputs["clusterName"],
        "nodegroupName": state["nodeGroupName"],
        "scalingConfig": {"minSize": low, "desiredSize": want, "maxSize": high},
        "subnets": inputs.get("subnetIds") or [],
        "nodeRole": inputs["nodeRoleArn"],
        "capacityType": capacity,
    }
    for ours, api in (
        ("instanceTypes", "instanceTypes"),
        ("amiType", "amiType"),
        ("labels", "labels"),
        ("diskSize", "diskSize"),
    ):
        if inputs.get(ours):
            kwargs[api] = inputs[ours]
    if inputs.get("taints"):
        kwargs["taints"] = [
            {"key": t["key"], "value": t.get("value", ""), "effect": t["effect"]}
            for t in inputs["taints"]
        ]
    if inputs.get("launchTemplate"):
        lt = inputs["launchTemplate"]
        kwargs["launchTemplate"] = {
            k: str(lt[k]) for k in ("id", "name", "version") if lt.get(k) is not None
        }
    if inputs.get("tags"):
        kwargs["tags"] = {k: str(v) for k, v in inputs["tags"].items()}
    b.client("eks").create_nodegroup(**kwargs)


# ---------------------------------------------------------------- RDS

_RDS_PASSWORD_MAX = {"mysql": 41, "mariadb": 41, "postgres": 128}
_RDS_USER_MAX = {"mysql": 16, "mariadb": 16, "postgres": 63}
_INSTANCE_CLASS = re.compile(
    r"^db\.(t3|t4g|m5|m5d|m6g|m6gd|m6i|m6id|m7g|m7i|m8g|r5|r5b|r5d|r6g"
    r"|r6gd|r6i|r6id|r7g|r7i|r8g|x2g|x2iedn)\.(micro|small|medium|large"
    r"|\d*xlarge)$"
)


@handles("aws:rds/subnetGroup:SubnetGroup")
def _db_subnet_group(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    zones, _ = _subnet_zones(b, inputs["subnetIds"])
    if len(zones) < 2:
        raise AwsRejected(
            "DBSubnetGroupDoesNotCoverEnoughAZs: subnets must cover at least 2 availability zones"
        )
    b.client("rds").create_db_subnet_group(
        DBSubnetGroupName=state["name"],
        DBSubnetGroupDescription=inputs.get("description") or "Managed by Pulumi",
        SubnetIds=inputs["subnetIds"],
        Tags=_tags(inputs),
    )


@handles("aws:rds/parameterGroup:ParameterGroup")
def _db_parameters(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    rds = b.client("rds")
    rds.create_db_parameter_group(
        DBParameterGroupName=state["name"],
        DBParameterGroupFamily=inputs["family"],
        Description=inputs.get("description") or "Managed by Pulumi",
        Tags=_tags(inputs),
    )
    params = inputs.get("parameters") or []
    if params:
        rds.modify_db_parameter_group(
            DBParameterGroupName=state["name"],
            Parameters=[
                {
                    "ParameterName": p["name"],
                    "ParameterValue": str(p["value"]),
                    "ApplyMethod": p.get("applyMethod") or "immediate",
                }
                for p in params
            ],
        )


@handles("aws:rds/instance:Instance")
def _db_instance(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    engine = inputs.get("engine", "")
    instance_class = inputs.get("instanceClass", "")
    if not _INSTANCE_CLASS.match(instance_class):
        raise AwsRejected(
            f"InvalidParameterCombination: RDS does not offer DB instance class {instance_class!r}"
        )
    password, user = inputs.get("password") or "", inputs.get("username") or ""
    # RDS keeps the password in Secrets Manager itself: then none may be given, else one must
    managed = bool(inputs.get("manageMasterUserPassword"))
    if managed and password:
        raise AwsRejected(
            "InvalidParameterCombination: MasterUserPassword cannot be given with "
            "ManageMasterUserPassword"
        )
    if (
        not managed
        and engine in _RDS_PASSWORD_MAX
        and not 8 <= len(password) <= _RDS_PASSWORD_MAX[engine]
    ):
        raise AwsRejected(
            f"InvalidParameterValue: {engine} master passwords are 8-{_RDS_PASSWORD_MAX[engine]} "
            "characters"
        )
    if any(c in password for c in '/@" '):
        raise AwsRejected('InvalidParameterValue: the master password contains / @ " or space')
    if engine in _RDS_USER_MAX and not 1 <= len(user) <= _RDS_USER_MAX[engine]:
        raise AwsRejected(f"InvalidParameterValue: {engine} master user names are 1-16 characters")
    storage, ceiling = int(inputs.get("allocatedStorage") or 0), inputs.get("maxAllocatedStorage")
    if ceiling and int(ceiling) <= storage:
        raise AwsRejected(
            "InvalidParameterCombination: Max storage size must be greater than storage size"
        )
    retention = int(inputs.get("backupRetentionPeriod") or 0)
    if not 0 <= retention <= 35:
        raise AwsRejected(f"InvalidParameterValue: backup retention {retention} is not 0..35")
    if inputs.get("kmsKeyId") and not inputs.get("storageEncrypted"):
        raise AwsRejected("InvalidParameterCombination: a KMS key needs storage encryption")
    kwargs: dict[str, Any] = {
        "DBInstanceIdentifier": state["identifier"],
        "Engine": engine,
        "DBInstanceClass": instance_class,
        "AllocatedStorage": storage,
        "MasterUsername": user,
        "Tags": _tags(inputs),
        **({"ManageMasterUserPassword": True} if managed else {"MasterUserPassword": password}),
    }
    for ours, api, cast in (
        ("engineVersion", "EngineVersion", str),
        ("dbName", "DBName", str),
        ("port", "Port", int),
        ("maxAllocatedStorage", "MaxAllocatedStorage", int),
        ("storageType", "StorageType", str),
        ("storageEncrypted", "StorageEncrypted", bool),
        ("kmsKeyId", "KmsKeyId", str),
        ("dbSubnetGroupName", "DBSubnetGroupName", str),
        ("vpcSecurityGroupIds", "VpcSecurityGroupIds", list),
        ("parameterGroupName", "DBParameterGroupName", str),
        ("publiclyAccessible", "PubliclyAccessible", bool),
        ("multiAz", "MultiAZ", bool),
        ("iamDatabaseAuthenticationEnabled", "EnableIAMDatabaseAuthentication", bool),
        ("backupRetentionPeriod", "BackupRetentionPeriod", int),
        ("copyTagsToSnapshot", "CopyTagsToSnapshot", bool),
        ("deletionProtection", "DeletionProtection", bool),
        ("autoMinorVersionUpgrade", "AutoMinorVersionUpgrade", bool),
        ("enabledCloudwatchLogsExports", "EnableCloudwatchLogsExports", list),
        ("performanceInsightsEnabled", "EnablePerformanceInsights", bool),
        ("performanceInsightsKmsKeyId", "PerformanceInsightsKMSKeyId", str),
    ):
        if inputs.get(ours) is not None:
            kwargs[api] = cast(inputs[ours])
    b.client("rds").create_db_instance(**kwargs)


# ---------------------------------------------------------------- ElastiCache

_TOKEN = re.compile(r"^[A-Za-z0-9!&#$^<>-]{16,128}$")
_GROUP_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@handles("aws:elasticache/subnetGroup:SubnetGroup")
def _cache_subnets(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    b.client("elasticache").create_cache_subnet_group(
        CacheSubnetGroupName=state["name"],
        CacheSubnetGroupDescription=inputs.get("description") or "Managed by Pulumi",
        SubnetIds=inputs["subnetIds"],
        Tags=_tags(inputs),
    )


@handles("aws:elasticache/replicationGroup:ReplicationGroup")
def _replication_group(
    b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]
) -> None:
    group = state["id"]
    if len(group) > 40 or not _GROUP_ID.match(group):
        raise AwsRejected(f"InvalidParameterValue: replication group ID {group!r}")
    clusters = int(inputs.get("numCacheClusters") or 1)
    token = inputs.get("authToken")
    if token:
        if not inputs.get("transitEncryptionEnabled"):
            raise AwsRejected(
                "InvalidParameterValue: The AUTH token is only supported when "
                "encryption-in-transit is enabled"
            )
        if not _TOKEN.match(token):
            raise AwsRejected(
                "InvalidParameterValue: the AUTH token must be 16-128 characters of "
                "letters, digits and !&#$^<>-"
            )
    if inputs.get("automaticFailoverEnabled") and clusters < 2:
        raise AwsRejected("InvalidParameterCombination: automatic failover needs 2+ clusters")
    if inputs.get("multiAzEnabled") and not inputs.get("automaticFailoverEnabled"):
        raise AwsRejected("InvalidParameterCombination: Multi-AZ needs automatic failover")
    if inputs.get("kmsKeyId"):
        if not inputs.get("atRestEncryptionEnabled"):
            raise AwsRejected("InvalidParameterCombination: a KMS key needs at-rest encryption")
        b.client("kms").describe_key(KeyId=inputs["kmsKeyId"])
    kwargs: dict[str, Any] = {
        "ReplicationGroupId": group,
        "ReplicationGroupDescription": inputs.get("description") or "Managed by Pulumi",
        "NumCacheClusters": clusters,
        "Tags": _tags(inputs),
    }
    for ours, api, cast in (
        ("engine", "Engine", str),
        ("engineVersion", "EngineVersion", str),
        ("nodeType", "CacheNodeType", str),
        ("port", "Port", int),
        ("subnetGroupName", "CacheSubnetGroupName", str),
        ("securityGroupIds", "SecurityGroupIds", list),
        ("transitEncryptionEnabled", "TransitEncryptionEnabled", bool),
        ("authToken", "AuthToken", str),
        ("atRestEncryptionEnabled", "AtRestEncryptionEnabled", bool),
        ("kmsKeyId", "KmsKeyId", str),
        ("automaticFailoverEnabled", "AutomaticFailoverEnabled", bool),
        ("multiAzEnabled", "MultiAZEnabled", bool),
        ("snapshotRetentionLimit", "SnapshotRetentionLimit", int),
        ("autoMinorVersionUpgrade", "AutoMinorVersionUpgrade", bool),
    ):
        if inputs.get(ours) is not None:
            kwargs[api] = cast(inputs[ours])
    if clusters > 1 and "ReplicasPerNodeGroup" not in kwargs:
        # moto builds one member unless told the replica count this way (AWS takes
        # NumCacheClusters alone); what moto then holds matches what AWS would
        kwargs["ReplicasPerNodeGroup"] = clusters - 1
    b.client("elasticache").create_replication_group(**kwargs)


# ---------------------------------------------------------------- DynamoDB


@handles("aws:dynamodb/table:Table")
def _table(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ddb = b.client("dynamodb")
    billing = inputs.get("billingMode", "PROVISIONED")
    keys = [{"AttributeName": inputs["hashKey"], "KeyType": "HASH"}]
    if inputs.get("rangeKey"):
        keys.append({"AttributeName": inputs["rangeKey"], "KeyType": "RANGE"})
    kwargs: dict[str, Any] = {
        "TableName": state["name"],
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]}
            for a in inputs.get("attributes") or []
        ],
        "KeySchema": keys,
        "BillingMode": billing,
        "Tags": _tags(inputs),
    }
    if billing == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = {
            "ReadCapacityUnits": int(inputs.get("readCapacity") or 0),
            "WriteCapacityUnits": int(inputs.get("writeCapacity") or 0),
        }
    sse = inputs.get("serverSideEncryption") or {}
    if sse.get("enabled"):
        kwargs["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
        if sse.get("kmsKeyArn"):
            b.client("kms").describe_key(KeyId=sse["kmsKeyArn"])
            kwargs["SSESpecification"]["KMSMasterKeyId"] = sse["kmsKeyArn"]
    if inputs.get("deletionProtectionEnabled") is not None:
        kwargs["DeletionProtectionEnabled"] = bool(inputs["deletionProtectionEnabled"])
    ddb.create_table(**kwargs)
    if (inputs.get("pointInTimeRecovery") or {}).get("enabled"):
        ddb.update_continuous_backups(
            TableName=state["name"],
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


# ---------------------------------------------------------------- Secrets Manager


@handles("aws:secretsmanager/secret:Secret")
def _secret(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    window = inputs.get("recoveryWindowInDays")
    if window is not None and int(window) != 0 and not 7 <= int(window) <= 30:
        raise AwsRejected(f"InvalidParameterException: recovery window {window} is not 7..30")
    kwargs: dict[str, Any] = {"Name": state["name"], "Tags": _tags(inputs)}
    if inputs.get("description"):
        kwargs["Description"] = inputs["description"]
    if inputs.get("kmsKeyId"):
        b.client("kms").describe_key(KeyId=inputs["kmsKeyId"])
        kwargs["KmsKeyId"] = inputs["kmsKeyId"]
    created = b.client("secretsmanager").create_secret(**kwargs)
    b.alias(state["arn"], created["ARN"])


@handles("aws:secretsmanager/secretVersion:SecretVersion")
def _secret_version(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {"SecretId": inputs["secretId"]}
    if inputs.get("secretString") is not None:
        kwargs["SecretString"] = inputs["secretString"]
    elif inputs.get("secretBinary") is not None:
        kwargs["SecretBinary"] = inputs["secretBinary"]
    else:
        raise AwsRejected("InvalidRequestException: a secret version needs a value")
    b.client("secretsmanager").put_secret_value(**kwargs)


# ---------------------------------------------------------------- ECR


@handles("aws:ecr/repository:Repository")
def _ecr_repository(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "repositoryName": state["name"],
        "imageTagMutability": inputs.get("imageTagMutability", "MUTABLE"),
        "tags": _tags(inputs),
    }
    scanning = inputs.get("imageScanningConfiguration")
    if scanning is not None:
        kwargs["imageScanningConfiguration"] = {"scanOnPush": bool(scanning.get("scanOnPush"))}
    for config in inputs.get("encryptionConfigurations") or []:
        kind = config.get("encryptionType", "AES256")
        if kind not in ("AES256", "KMS", "KMS_DSSE"):
            raise AwsRejected(f"ValidationException: encryption type {kind!r}")
        kwargs["encryptionConfiguration"] = {"encryptionType": kind}
        if config.get("kmsKey"):
            if kind == "AES256":
                raise AwsRejected("ValidationException: a KMS key needs encryption type KMS")
            b.client("kms").describe_key(KeyId=config["kmsKey"])
            kwargs["encryptionConfiguration"]["kmsKey"] = config["kmsKey"]
    b.client("ecr").create_repository(**kwargs)


@handles("aws:ecr/lifecyclePolicy:LifecyclePolicy")
def _ecr_lifecycle(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    b.client("ecr").put_lifecycle_policy(
        repositoryName=inputs["repository"], lifecyclePolicyText=inputs["policy"]
    )


@handles("aws:ecr/repositoryPolicy:RepositoryPolicy")
def _ecr_policy(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    doc = _policy_json(inputs.get("policy"), "repository policy")
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for st in statements:
        if "Principal" not in st and "NotPrincipal" not in st:
            raise AwsRejected("InvalidParameterException: a repository policy needs a Principal")
        if "Resource" in st:
            raise AwsRejected("InvalidParameterException: a repository policy has no Resource")
        for action in _as_list(st.get("Action")):
            if not str(action).startswith("ecr:") and action != "*":
                raise AwsRejected(f"InvalidParameterException: {action!r} is not an ECR action")
    b.client("ecr").set_repository_policy(
        repositoryName=inputs["repository"], policyText=inputs["policy"]
    )


# ---------------------------------------------------------------- CodeBuild

_CODEBUILD_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$")
_CODEBUILD_VARIABLE_TYPES = ("PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER")


def _bounded(inputs: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = inputs.get(key)
    if value is None:
        return None
    if not low <= int(value) <= high:
        raise AwsRejected(f"InvalidInputException: {key} {value} is not {low}..{high}")
    return int(value)


@handles("aws:codebuild/project:Project")
def _codebuild_project(
    b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]
) -> None:
    """moto checks the shape; AWS also checks the role, the VPC settings and the limits."""
    project = state["name"]
    if not _CODEBUILD_PROJECT.match(project):
        raise AwsRejected(f"InvalidInputException: project name {project!r} is not valid")
    role_arn = str(inputs.get("serviceRole") or "")
    iam = b.client("iam")
    trust = iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    services = [
        service
        for st in _as_list(trust.get("Statement"))
        if isinstance(st, dict) and st.get("Effect") == "Allow"
        for service in _as_list((st.get("Principal") or {}).get("Service"))
    ]
    if "codebuild.amazonaws.com" not in services:
        raise AwsRejected(
            f"InvalidInputException: CodeBuild is not authorized to perform sts:AssumeRole "
            f"on {role_arn}"
        )
    timeout = _bounded(inputs, "buildTimeout", 5, 2160)
    queued = _bounded(inputs, "queuedTimeout", 5, 480)
    limit = inputs.get("concurrentBuildLimit")
    if limit is not None and int(limit) < 1:
        raise AwsRejected(f"InvalidInputException: concurrentBuildLimit {limit} is below 1")
    env = dict(inputs.get("environment") or {})
    variables = []
    for var in env.get("environmentVariables") or []:
        kind = var.get("type") or "PLAINTEXT"
        if kind not in _CODEBUILD_VARIABLE_TYPES:
            raise AwsRejected(f"InvalidInputException: environment variable type {kind!r}")
        variables.append({"name": var["name"], "value": str(var["value"]), "type": kind})
    environment: dict[str, Any] = {
        "type": env.get("type"),
        "image": env.get("image"),
        "computeType": env.get("computeType"),
        "privilegedMode": bool(env.get("privilegedMode", False)),
        "environmentVariables": variables,
    }
    if env.get("imagePullCredentialsType"):
        environment["imagePullCredentialsType"] = env["imagePullCredentialsType"]
    kwargs: dict[str, Any] = {
        "name": project,
        "source": {
            k: v
            for k, v in {
                "type": (inputs.get("source") or {}).get("type"),
                "location": (inputs.get("source") or {}).get("location"),
                "buildspec": (inputs.get("source") or {}).get("buildspec"),
            }.items()
            if v is not None
        },
        "artifacts": {"type": (inputs.get("artifacts") or {}).get("type", "NO_ARTIFACTS")},
        "environment": environment,
        "serviceRole": role_arn,
        "tags": [{"key": t["Key"], "value": t["Value"]} for t in _tags(inputs)],
    }
    vpc = inputs.get("vpcConfig")
    if vpc:
        subnets, groups = list(vpc.get("subnets") or []), list(vpc.get("securityGroupIds") or [])
        if not subnets or not 1 <= len(groups) <= 5:
            raise AwsRejected(
                "InvalidInputException: a VPC config needs subnets and 1 to 5 security groups"
            )
        ec2 = b.client("ec2")
        _, vpcs = _subnet_zones(b, subnets)
        found = ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"]
        vpcs |= {g["VpcId"] for g in found}
        if vpcs != {vpc.get("vpcId")}:
            raise AwsRejected(
                f"InvalidInputException: subnets and security groups must be in VPC "
                f"{vpc.get('vpcId')}, they are in {sorted(vpcs)}"
            )
        kwargs["vpcConfig"] = {
            "vpcId": vpc["vpcId"],
            "subnets": subnets,
            "securityGroupIds": groups,
        }
    if timeout is not None:
        kwargs["timeoutInMinutes"] = timeout
    if queued is not None:
        kwargs["queuedTimeoutInMinutes"] = queued
    logs = (inputs.get("logsConfig") or {}).get("cloudwatchLogs") or {}
    if logs:
        watch = {"status": logs.get("status", "ENABLED"), "groupName": logs.get("groupName")}
        kwargs["logsConfig"] = {"cloudWatchLogs": {k: v for k, v in watch.items() if v}}
    b.client("codebuild").create_project(**kwargs)


# ---------------------------------------------------------------- existing resources (look-ups)


def _existing_vpc(b: Backend, vpc_id: str) -> str:
    from mlops.engine.fakes import EXISTING_VPC_CIDR

    if vpc_id not in b._aliases:
        vpc = b.client("ec2").create_vpc(CidrBlock=EXISTING_VPC_CIDR)["Vpc"]
        b.alias(vpc_id, vpc["VpcId"])
    return b._aliases[vpc_id]


@adopts("aws:ec2/getSubnet:getSubnet")
def _adopt_subnet(b: Backend, args: dict[str, Any], result: dict[str, Any]) -> None:
    if result["id"] in b._aliases:
        return
    subnet = b.client("ec2").create_subnet(
        VpcId=_existing_vpc(b, result["vpcId"]),
        CidrBlock=result["cidrBlock"],
        AvailabilityZone=result["availabilityZone"],
    )["Subnet"]
    b.alias(result["id"], subnet["SubnetId"])


@adopts("aws:ec2/getSecurityGroup:getSecurityGroup")
def _adopt_security_group(b: Backend, args: dict[str, Any], result: dict[str, Any]) -> None:
    if result["id"] in b._aliases:
        return
    group = b.client("ec2").create_security_group(
        GroupName=result["name"],
        Description=result["description"],
        VpcId=_existing_vpc(b, result["vpcId"]),
    )
    b.alias(result["id"], group["GroupId"])
