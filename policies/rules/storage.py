"""Storage: S3 buckets (through their pulumi-aws 7 companion resources), ECR, KMS.

pulumi-aws 7 moved encryption, versioning, the public-access block and the bucket policy
off ``aws:s3/bucket:Bucket`` into companion resources, so the S3 rules are stack
policies: each bucket is linked to its companions through the ``bucket`` property
dependency (the companion's ``bucket`` input came from the bucket's output), falling
back to equal ``bucket`` values (name or id) when the program passed a plain string.
The deprecated inline settings on the bucket itself still count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Policy, PolicyResource, ReportViolation, StackValidationArgs

from .common import (
    as_dict,
    as_list,
    customer_key_problem,
    get,
    is_true,
    resource_policy,
    resources_of,
    stack_policy,
)
from .iam_actions import service_actions
from .iam_eval import Unmodelled, covers_action, covers_resource, holds_whatever_else
from .iam_grants import effect, principal_spec, read_document, scoped, sid

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"  # deprecated, still seen in older programs
BUCKETS = (BUCKET, BUCKET_V2)
SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
BUCKET_ACL = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")

# A server-access-log bucket may use SSE-S3 (AES256): S3 log delivery cannot write to
# SSE-KMS buckets. What makes a bucket one is that another bucket of the plan delivers its
# access logs there (a BucketLogging, or inline logging, naming it as targetBucket), never
# a tag the bucket gives itself. (The blueprint still tags its log buckets
# purpose=s3-access-logs; that tag is a label, not an exemption.)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
# Condition keys that, pinned to fixed values, stop an Allow to "*" from being public: S3's
# own definition of a public policy (plus the principal's account, organization and ARN,
# which IAM Access Analyzer counts too); aws:SourceIp counts as a set of CIDRs.
SCOPING_KEYS = (
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOwner",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:SourceIp",
    "aws:VpcSourceIp",
    "aws:userid",
    "aws:PrincipalOrgID",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
)
# Every place a program can set an S3 bucket or access point policy: (type, input path)
POLICY_PLACES: dict[str, tuple[str, ...]] = {
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    BUCKET: ("policy",),
    BUCKET_V2: ("policy",),
    "aws:s3/accessPoint:AccessPoint": ("policy",),
    "aws:s3control/bucketPolicy:BucketPolicy": ("policy",),
    "aws:s3control/accessPointPolicy:AccessPointPolicy": ("policy",),
    "aws:s3control/objectLambdaAccessPointPolicy:ObjectLambdaAccessPointPolicy": ("policy",),
    "aws:s3control/multiRegionAccessPointPolicy:MultiRegionAccessPointPolicy": (
        "details",
        "policy",
    ),
}
BUCKET_ARN = "arn:${Partition}:s3:::${BucketName}"
OBJECT_ARN = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
# who sends the request a TLS-only policy must refuse: anyone, from any account
PROBE_PRINCIPAL = {"AWS": "arn:aws:iam::000000000000:role/zq-probe"}


def _names(value: Any, keys: set[str]) -> bool:
    return isinstance(value, str) and value in keys


def is_access_log_bucket(args: StackValidationArgs, bucket: PolicyResource) -> bool:
    """True when another bucket of the plan delivers its server access logs to ``bucket``."""
    keys = _bucket_keys(bucket)
    for logging in resources_of(args, *LOGGING):
        targets = logging.property_dependencies.get("targetBucket") or []
        if not (
            any(d.urn == bucket.urn for d in targets)
            or (not targets and _names(logging.props.get("targetBucket"), keys))
        ):
            continue
        sources = logging.property_dependencies.get("bucket") or []
        from_itself = any(d.urn == bucket.urn for d in sources) or (
            not sources and _names(logging.props.get("bucket"), keys)
        )
        if not from_itself:
            return True
    for other in resources_of(args, *BUCKETS):
        if other.urn == bucket.urn:
            continue
        for setting in (
            *as_list(other.props.get("loggings")),
            *as_list(other.props.get("logging")),
        ):
            if _names(as_dict(setting).get("targetBucket"), keys):
                return True
    return False


def _bucket_keys(bucket: PolicyResource) -> set[str]:
    keys = set()
    for prop in ("bucket", "id"):
        value = bucket.props.get(prop)
        if isinstance(value, str) and value and value != "[secret]":
            keys.add(value)
    return keys


def companions(
    args: StackValidationArgs, bucket: PolicyResource, types: tuple[str, ...]
) -> list[PolicyResource]:
    """Companion resources of ``bucket``: by property dependency, else by ``bucket`` value."""
    found = []
    keys = _bucket_keys(bucket)
    for res in resources_of(args, *types):
        deps = res.property_dependencies.get("bucket") or []
        if any(d.urn == bucket.urn for d in deps) or (not deps and res.props.get("bucket") in keys):
            found.append(res)
    return found


def _label(bucket: PolicyResource) -> str:
    name = bucket.props.get("bucket")
    return f"'{name}'" if isinstance(name, str) else f"'{bucket.name}'"


def _sse_defaults(bucket: PolicyResource, found: list[PolicyResource]) -> list[Mapping[str, Any]]:
    defaults = []
    for res in found:
        for rule in as_list(res.props.get("rules")):
            defaults.append(as_dict(get(rule, "applyServerSideEncryptionByDefault")))
    inline = as_dict(bucket.props.get("serverSideEncryptionConfiguration"))
    for rule in as_list(inline.get("rule")):
        defaults.append(as_dict(get(rule, "applyServerSideEncryptionByDefault")))
    return defaults


def _check_encryption(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in resources_of(args, *BUCKETS):
        log_bucket = is_access_log_bucket(args, bucket)
        defaults = _sse_defaults(bucket, companions(args, bucket, SSE))
        if not defaults:
            report(
                f"Bucket {_label(bucket)} has no server-side encryption configuration.", bucket.urn
            )
            continue
        for d in defaults:
            algorithm = d.get("sseAlgorithm")
            if log_bucket and algorithm in ("AES256", *KMS_ALGORITHMS):
                continue
            if algorithm not in KMS_ALGORITHMS:
                report(
                    f"Bucket {_label(bucket)} encrypts with '{algorithm}', not aws:kms "
                    "(only buckets that receive other buckets' access logs may use AES256).",
                    bucket.urn,
                )
            elif not d.get("kmsMasterKeyId"):
                report(
                    f"Bucket {_label(bucket)} uses aws:kms without a customer-managed key "
                    "(kmsMasterKeyId).",
                    bucket.urn,
                )
            elif (problem := customer_key_problem(d.get("kmsMasterKeyId"))) is not None:
                report(
                    f"Bucket {_label(bucket)} uses aws:kms without a customer-managed key "
                    f"(kmsMasterKeyId): {problem}.",
                    bucket.urn,
                )


def _check_versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in resources_of(args, *BUCKETS):
        statuses = [
            get(r.props, "versioningConfiguration", "status")
            for r in companions(args, bucket, VERSIONING)
        ]
        if is_true(get(bucket.props, "versioning", "enabled")):
            statuses.append("Enabled")
        if "Enabled" not in statuses:
            shown = ", ".join(str(s) for s in statuses) or "no BucketVersioning"
            report(f"Bucket {_label(bucket)} is not versioned ({shown}).", bucket.urn)


def _check_public_access_block(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in resources_of(args, *BUCKETS):
        blocks = companions(args, bucket, PUBLIC_ACCESS_BLOCK)
        if not blocks:
            report(f"Bucket {_label(bucket)} has no BucketPublicAccessBlock.", bucket.urn)
            continue
        for block in blocks:
            off = [f for f in PUBLIC_ACCESS_FLAGS if not is_true(block.props.get(f))]
            if off:
                report(
                    f"Bucket {_label(bucket)} public-access block leaves {', '.join(off)} off.",
                    bucket.urn,
                )


def _bucket_name(bucket: PolicyResource, doc: Mapping[str, Any]) -> str | None:
    name = bucket.props.get("bucket")
    if isinstance(name, str) and name and name != "[secret]":
        return name
    # an auto-named bucket: the policy names it in its own resources
    for st in doc["Statement"]:
        for arn in as_list(st.get("Resource")):
            if isinstance(arn, str) and arn.startswith("arn:aws:s3:::"):
                candidate = arn[len("arn:aws:s3:::") :].split("/", 1)[0]
                if candidate and not any(c in candidate for c in "*?$"):
                    return candidate
    return None


def _denies_without_tls(st: Mapping[str, Any]) -> bool:
    """A Deny to everyone that holds for any request made without TLS, whatever else the
    request carries (VPC endpoint, TLS version, tags...)."""
    if effect(st) != "Deny" or "NotPrincipal" in st or principal_spec(st) is not None:
        return False  # a Deny that spares some principals lets them skip TLS
    return holds_whatever_else(st.get("Condition") or {}, {"aws:SecureTransport": False})


def insecure_transport_gaps(doc: Mapping[str, Any], bucket: str) -> list[str]:
    """The S3 actions on ``bucket`` (or its objects) that the policy does not deny to every
    request made without TLS; [] when it enforces TLS. Every documented S3 action that
    takes a bucket or object is probed (AWS's action reference)."""
    denies = [st for st in doc["Statement"] if _denies_without_tls(st)]
    gaps = []
    for action in service_actions("s3"):
        for arn_format, arn in (
            (BUCKET_ARN, f"arn:aws:s3:::{bucket}"),
            (OBJECT_ARN, f"arn:aws:s3:::{bucket}/zq-probe"),
        ):
            if arn_format not in action.arn_formats:
                continue
            if not any(covers_action(st, action.key) and covers_resource(st, arn) for st in denies):
                gaps.append(action.key)
                break
    return sorted(gaps)


def bucket_policies(args: StackValidationArgs, bucket: PolicyResource) -> list[tuple[str, Any]]:
    """(where, raw policy) of every policy set on the bucket: its BucketPolicy companions
    and its own (deprecated) ``policy`` input."""
    found = [
        (f"BucketPolicy '{p.name}'", p.props.get("policy"))
        for p in companions(args, bucket, BUCKET_POLICY)
    ]
    if bucket.props.get("policy") is not None:
        found.append(("the bucket's policy input", bucket.props.get("policy")))
    return found


def _check_tls_only(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in resources_of(args, *BUCKETS):
        policies = bucket_policies(args, bucket)
        if not policies:
            report(
                f"Bucket {_label(bucket)} has no bucket policy denying requests without TLS "
                "(Deny s3:* when aws:SecureTransport is false).",
                bucket.urn,
            )
        # AWS keeps one bucket policy: whichever is applied last must enforce TLS, so all do
        for where, raw in policies:
            doc, problem = read_document(raw)
            if doc is None:
                report(
                    f"Bucket {_label(bucket)}: {where} {problem or 'is empty'}; it cannot "
                    "be shown to deny requests without TLS.",
                    bucket.urn,
                )
                continue
            name = _bucket_name(bucket, doc)
            try:
                gaps = insecure_transport_gaps(doc, name) if name else ["(bucket name unknown)"]
            except Unmodelled as exc:
                report(f"Bucket {_label(bucket)}: {where} cannot be judged: {exc}.", bucket.urn)
                continue
            if gaps:
                shown = ", ".join(gaps[:4]) + (
                    f" and {len(gaps) - 4} more" if len(gaps) > 4 else ""
                )
                report(
                    f"Bucket {_label(bucket)} has no bucket policy denying requests without "
                    f"TLS (Deny s3:* when aws:SecureTransport is false): {where} lets "
                    f"{shown} through without TLS.",
                    bucket.urn,
                )


def _check_access_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in resources_of(args, *BUCKETS):
        if is_access_log_bucket(args, bucket):
            continue  # logging the log bucket into itself would loop
        inline = bucket.props.get("loggings") or bucket.props.get("logging")
        if not companions(args, bucket, LOGGING) and not inline:
            report(
                f"Bucket {_label(bucket)} has no server access logging (BucketLogging).", bucket.urn
            )


def _check_no_public_acl(args: Any, report: ReportViolation) -> None:
    acl = args.props.get("acl")
    if acl in PUBLIC_ACLS:
        report(f"ACL '{acl}' makes the bucket public.", None)
    # (grantee URI, permissions): a BucketAcl's accessControlPolicy, and the bucket's own
    # inline `grants` (deprecated on Bucket, still applied by the provider)
    grants = [
        (get(g, "grantee", "uri"), as_list(get(g, "permission")))
        for g in as_list(get(args.props, "accessControlPolicy", "grants"))
    ] + [(get(g, "uri"), as_list(get(g, "permissions"))) for g in as_list(args.props.get("grants"))]
    for uri, permissions in grants:
        uri = str(uri or "")
        if uri.endswith(("/global/AllUsers", "/global/AuthenticatedUsers")):
            shown = ", ".join(str(p) for p in permissions) or "access"
            report(f"ACL grants {shown} to {uri.rsplit('/', 1)[-1]}.", None)


def _check_no_public_policy(args: Any, report: ReportViolation) -> None:
    raw: Any = args.props
    for step in POLICY_PLACES[args.resource_type]:
        raw = as_dict(raw).get(step)
    doc, problem = read_document(raw)
    if problem is not None:
        report(f"The policy {problem}: whether it is public cannot be shown.", None)
    for st in (doc or {}).get("Statement", []):
        try:
            if effect(st) != "Allow" or principal_spec(st) is not None:
                continue
            fixed = scoped(st, SCOPING_KEYS)
        except Unmodelled as exc:
            report(f"Statement {sid(st)} cannot be judged: {exc}.", None)
            continue
        if not fixed:
            what = st.get("Action") if "Action" in st else f"NotAction {st.get('NotAction')}"
            report(
                f"Statement {sid(st)} allows {what} to every principal ('*') "
                "without an account, organization or VPC condition.",
                None,
            )


def _check_ecr(args: Any, report: ReportViolation) -> None:
    props = args.props
    if props.get("imageTagMutability") != "IMMUTABLE":
        report("Image tags are mutable: set imageTagMutability to IMMUTABLE.", None)
    if not is_true(get(props, "imageScanningConfiguration", "scanOnPush")):
        report("Images are not scanned on push (imageScanningConfiguration.scanOnPush).", None)
    enc = [as_dict(e) for e in as_list(props.get("encryptionConfigurations"))]
    if not any(e.get("encryptionType") == "KMS" for e in enc):
        report("Repository is not encrypted with KMS (encryptionConfigurations).", None)


def _check_kms_rotation(args: Any, report: ReportViolation) -> None:
    spec = args.props.get("customerMasterKeySpec") or args.props.get("keySpec")
    # AWS only rotates symmetric keys; asymmetric and HMAC keys cannot be rotated
    if spec not in (None, "SYMMETRIC_DEFAULT"):
        return
    if not is_true(args.props.get("enableKeyRotation")):
        report("Automatic key rotation is off (enableKeyRotation).", None)


POLICIES: list[Policy] = [
    stack_policy(
        "s3-bucket-encryption-kms",
        "S3 buckets are encrypted by default with a customer-managed KMS key (buckets that "
        "receive other buckets' server access logs may use AES256).",
        _check_encryption,
        remediation="Add a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms "
        "and kmsMasterKeyId.",
    ),
    stack_policy(
        "s3-bucket-versioning",
        "S3 buckets are versioned.",
        _check_versioning,
        remediation="Add a BucketVersioning with versioningConfiguration.status Enabled.",
    ),
    stack_policy(
        "s3-bucket-public-access-block",
        "S3 buckets block public access with all four public-access-block settings.",
        _check_public_access_block,
        remediation="Add a BucketPublicAccessBlock with all four flags true.",
    ),
    stack_policy(
        "s3-bucket-tls-only",
        "S3 bucket policies (every one set on a bucket) deny every S3 request made without TLS.",
        _check_tls_only,
        remediation="Add a BucketPolicy statement: Deny s3:* to * when aws:SecureTransport "
        "is false.",
    ),
    stack_policy(
        "s3-bucket-access-logging",
        "S3 buckets (other than those receiving other buckets' access logs) write server "
        "access logs.",
        _check_access_logging,
        remediation="Add a BucketLogging that targets the access-log bucket.",
    ),
    resource_policy(
        "s3-no-public-acl",
        "S3 buckets and bucket ACLs grant nothing to AllUsers or AuthenticatedUsers.",
        (*BUCKETS, *BUCKET_ACL),
        _check_no_public_acl,
    ),
    resource_policy(
        "s3-bucket-policy-not-public",
        "S3 bucket and access point policies, wherever set, allow nothing to every "
        "principal unless a condition pins a fixed account, organization, source, VPC or "
        "CIDR set.",
        tuple(POLICY_PLACES),
        _check_no_public_policy,
    ),
    resource_policy(
        "ecr-repository-hardened",
        "ECR repositories have immutable tags, scan on push and KMS encryption.",
        ("aws:ecr/repository:Repository",),
        _check_ecr,
    ),
    resource_policy(
        "kms-key-rotation",
        "Symmetric KMS keys rotate automatically.",
        ("aws:kms/key:Key",),
        _check_kms_rotation,
    ),
]
