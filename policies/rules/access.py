"""Access: each workload can make the AWS calls its client makes, as AWS would decide them.

A Kubernetes ServiceAccount bound to an IAM role (IRSA, annotation
``eks.amazonaws.com/role-arn``) declares in ``mlops.platform/aws-calls`` the calls its
workload makes (action, resource, the condition keys the request carries). Each call is
evaluated with `iam_eval` — AWS's evaluation logic with conditions — against the role's
inline policies and, for S3, the bucket's policy from the same plan. A denial, a role the
plan does not hold, a managed policy that cannot be read offline, or an IRSA account that
declares nothing is a violation: a workload whose access cannot be shown is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Policy, ReportViolation, StackValidationArgs

from .common import as_dict, as_list, get, resources_of, stack_policy
from .iam_eval import Request, Unmodelled, decide
from .k8s import KSERVE_COMPONENTS, KSERVE_FRAMEWORKS, KSERVE_GROUP
from .network import stack_objects
from .role_grants import TYPES_READ as GRANT_TYPES
from .role_grants import RoleGrants

IRSA = "eks.amazonaws.com/role-arn"
CALLS = "mlops.platform/aws-calls"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
ROLE = "aws:iam/role:Role"


def _role_name(arn: Any) -> str | None:
    if not isinstance(arn, str) or ":role/" not in arn:
        return None
    return arn.rsplit("/", 1)[-1]


def _check_workload_access(args: StackValidationArgs, report: ReportViolation) -> None:
    grants = RoleGrants(args)
    for account in resources_of(args, SERVICE_ACCOUNT):
        meta = as_dict(get(account.props, "metadata"))
        annotations = as_dict(meta.get("annotations"))
        role_arn = annotations.get(IRSA)
        if role_arn is None:
            continue
        who = f"ServiceAccount {meta.get('namespace')}/{meta.get('name')}"

        def refuse(message: str, who: str = who, urn: str = account.urn) -> None:
            report(f"{who}: {message}", urn)

        role = _role_name(role_arn)
        if role is None:
            refuse(f"its role {role_arn!r} is not an IAM role ARN the plan can resolve")
            continue
        key = grants.role_of(str(role_arn), account)
        if key is None:
            refuse(f"its role {role!r} is not in the plan: its access cannot be shown")
            continue
        found = grants.of(key)
        if found.unreadable:
            refuse(
                f"role {role!r}: {found.unreadable[0]}; give workloads inline policies, "
                "which can be evaluated"
            )
            continue
        policies = found.documents
        calls = _declared(annotations.get(CALLS))
        if calls is None:
            refuse(f"declares no AWS calls ({CALLS}) although bound to role {role!r}")
            continue
        for call in calls:
            request = Request(
                action=call["action"],
                resource=call["resource"],
                context={"aws:SecureTransport": True, **as_dict(call.get("context"))},
                principal={"AWS": str(role_arn)},
            )
            resource_policy = None
            if call["action"].lower().startswith("s3:"):
                bucket = call["resource"].split(":::", 1)[-1].split("/", 1)[0]
                resource_policy, problem = grants.bucket_policy(bucket)
                if problem:
                    refuse(problem)
                    continue
            try:
                decision = decide(request, policies, resource_policy)
            except Unmodelled as exc:
                refuse(f"{call['action']} on {call['resource']} cannot be decided ({exc})")
                continue
            if not decision.allowed:
                refuse(
                    f"{call['why']}: AWS would refuse {call['action']} on {call['resource']}"
                    f"{_with(call)} to role {role!r} ({decision.effect})"
                )


def _model_uris(component: Mapping[str, Any]) -> list[str]:
    """The s3:// storage URIs one InferenceService component downloads."""
    found = [get(component, key, "storageUri") for key in KSERVE_FRAMEWORKS]
    found += [
        get(env, "value")
        for c in as_list(component.get("containers"))
        for env in as_list(get(c, "env"))
        if get(env, "name") == "STORAGE_URI"
    ]
    return [u for u in found if isinstance(u, str) and u.startswith("s3://")]


def _check_model_readable(args: StackValidationArgs, report: ReportViolation) -> None:
    placed = stack_objects(args)
    accounts = {
        (str(p.obj.namespace), str(p.obj.name)): p for p in placed if p.obj.type == SERVICE_ACCOUNT
    }
    grants: RoleGrants | None = None
    for p in placed:
        if p.obj.kind != "InferenceService" or p.obj.group != KSERVE_GROUP:
            continue
        ns = p.obj.namespace
        spec = as_dict(get(p.obj.props, "spec"))
        for part in KSERVE_COMPONENTS:
            component = as_dict(spec.get(part))
            for uri in _model_uris(component):
                who = f"{p.obj.prefix()}InferenceService {ns}/{p.obj.name} {part}"
                sa = component.get("serviceAccountName") or "default"
                account = accounts.get((str(ns), str(sa)))
                role_arn = (
                    as_dict(get(account.obj.props, "metadata", "annotations")).get(IRSA)
                    if account
                    else None
                )
                if role_arn is None:
                    report(
                        f"{who} runs as {sa!r}, which the plan does not bind to an IAM role: "
                        f"KServe's storage initializer cannot read {uri}",
                        p.resource.urn,
                    )
                    continue
                assert account is not None
                grants = grants or RoleGrants(args)
                key = grants.role_of(str(role_arn), account.resource)
                found = grants.of(key) if key else None
                if found is None or found.unreadable:
                    why = found.unreadable[0] if found else "its role is not in the plan"
                    report(f"{who}: what {sa!r} may read cannot be shown ({why})", p.resource.urn)
                    continue
                bucket, _, prefix = uri.removeprefix("s3://").partition("/")
                resource_policy, problem = grants.bucket_policy(bucket)
                if problem:
                    report(f"{who}: {problem}", p.resource.urn)
                    continue
                # what the storage initializer does: list under the model's prefix, get each
                requests = [
                    Request(
                        action="s3:ListBucket",
                        resource=f"arn:aws:s3:::{bucket}",
                        context={"aws:SecureTransport": True, "s3:prefix": prefix.rstrip("/")},
                        principal={"AWS": str(role_arn)},
                    ),
                    Request(
                        action="s3:GetObject",
                        resource=f"arn:aws:s3:::{bucket}/{prefix.rstrip('/')}/MLmodel",
                        context={"aws:SecureTransport": True},
                        principal={"AWS": str(role_arn)},
                    ),
                ]
                for request in requests:
                    try:
                        allowed = decide(request, found.documents, resource_policy).allowed
                    except Unmodelled as exc:
                        report(f"{who}: {request.action} cannot be decided ({exc})", p.resource.urn)
                        break
                    if not allowed:
                        report(
                            f"{who}: AWS would refuse {request.action} on {uri} to {sa!r} "
                            "(KServe's storage initializer lists and downloads the model as "
                            "that account)",
                            p.resource.urn,
                        )
                        break


def _declared(raw: Any) -> list[dict[str, Any]] | None:
    if not isinstance(raw, str):
        return None
    try:
        calls = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(calls, list) or not calls:
        return None
    good = [
        c
        for c in calls
        if isinstance(c, dict) and all(isinstance(c.get(k), str) for k in ("action", "resource"))
    ]
    if len(good) != len(calls):
        return None
    for call in good:
        call.setdefault("why", "declared call")
    return good


def _with(call: Mapping[str, Any]) -> str:
    context = as_dict(call.get("context"))
    if not context:
        return " (no condition keys in the request)"
    shown = ", ".join(f"{k}={v}" for k, v in sorted(context.items()) if k in ("s3:prefix",))
    return f" ({shown})" if shown else ""


POLICIES: list[Policy] = [
    stack_policy(
        "workload-aws-access",
        "Every workload bound to an IAM role can make the AWS calls its client makes, as "
        "AWS would evaluate them (conditions included), and declares them.",
        _check_workload_access,
        types=(SERVICE_ACCOUNT, *GRANT_TYPES),
        remediation="Grant the call in the role's inline policy (HeadBucket is "
        "s3:ListBucket without an s3:prefix condition), or declare the calls the "
        "workload really makes in its ServiceAccount's mlops.platform/aws-calls.",
    ),
    stack_policy(
        "kserve-model-readable",
        "Every InferenceService downloads its s3:// model as an account of the plan bound to "
        "an IAM role that AWS would let list the model's prefix and read its files "
        "(conditions and the bucket's policy included).",
        _check_model_readable,
        types=(
            SERVICE_ACCOUNT,
            "kubernetes:serving.kserve.io/v1beta1:InferenceService",
            *GRANT_TYPES,
        ),
        remediation="Name the team's serving account (serviceAccountName) in each component, "
        "and grant its role s3:ListBucket on the model's prefix and s3:GetObject under it.",
    ),
]
