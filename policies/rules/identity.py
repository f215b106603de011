"""Identity: IAM permissions without wildcards on writes, and pinned federated trust.

Identity policies are read from every place a program can put them:
``aws:iam/policy:Policy``, role/user/group inline policy resources and a Role's
``inlinePolicies``. Trust policies (``assumeRolePolicy``) of roles assumed with a web
identity must pin who may assume them: for EKS (IRSA) the service account
(``<issuer>:sub``) and the audience (``<issuer>:aud``); for GitHub Actions the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs

from .common import (
    as_dict,
    as_list,
    config,
    policy_document,
    principals,
    resource_policy,
    statements,
)

ROLE = "aws:iam/role:Role"
DOCUMENT_PROPS: dict[str, str] = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
# Verbs of actions that only read. Anything else (Put, Create, Delete, Pass, Tag, ...)
# changes something and must name its resources.
READ_VERBS = ("Get", "List", "Describe", "Head", "Lookup", "Search", "Query", "Scan",
              "BatchGet", "Select", "View", "Read", "Check", "Validate", "Test")
# Condition keys that narrow a statement to specific resources, so Resource "*" is
# acceptable with them (e.g. iam:CreateServiceLinkedRole for named services).
DEFAULT_SCOPING_KEYS = ["iam:AWSServiceName", "iam:PassedToService", "aws:ResourceTag/*",
                        "kms:ViaService"]
DEFAULT_DENIED_POLICIES = ["arn:aws:iam::aws:policy/AdministratorAccess",
                           "arn:aws:iam::aws:policy/IAMFullAccess"]
EKS_ISSUER = re.compile(r"^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[A-Za-z0-9]+$")
GITHUB_ISSUER = "token.actions.githubusercontent.com"
SERVICE_ACCOUNT_SUB = re.compile(r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:"
                                 r"[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")
AUDIENCE = "sts.amazonaws.com"


def identity_documents(args: ResourceValidationArgs) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, document) for every identity policy the resource declares."""
    prop = DOCUMENT_PROPS.get(args.resource_type)
    if prop is not None:
        doc = policy_document(args.props.get(prop))
        if doc is not None:
            yield "policy", doc
    if args.resource_type == ROLE:
        for inline in as_list(args.props.get("inlinePolicies")):
            doc = policy_document(as_dict(inline).get("policy"))
            if doc is not None:
                yield f"inline policy '{as_dict(inline).get('name')}'", doc


def is_write(action: str) -> bool:
    """True unless the action (``svc:Verb...``) is a read: wildcards count as writes."""
    _, _, verb = action.partition(":")
    return not verb or not verb.startswith(READ_VERBS)


def _sid(st: Mapping[str, Any]) -> str:
    return str(st.get("Sid") or "(no Sid)")


def _check_wildcard_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for where, doc in identity_documents(args):
        for st in statements(doc):
            if st.get("Effect") != "Allow":
                continue
            if "NotAction" in st:
                report(f"{where}: statement {_sid(st)} allows NotAction (everything else).",
                       None)
            for action in as_list(st.get("Action")):
                action = str(action)
                if action == "*" or action.endswith(":*"):
                    report(f"{where}: statement {_sid(st)} allows action '{action}'.", None)


def _scoped(st: Mapping[str, Any], keys: list[str]) -> bool:
    present = [str(k) for op in as_dict(st.get("Condition")).values() for k in as_dict(op)]
    for key in present:
        for pattern in keys:
            if key.lower() == pattern.lower() or (
                pattern.endswith("*") and key.lower().startswith(pattern[:-1].lower())
            ):
                return True
    return False


def _check_wildcard_resource(args: ResourceValidationArgs, report: ReportViolation) -> None:
    keys = list(config(args, "scoping_condition_keys", DEFAULT_SCOPING_KEYS))
    for where, doc in identity_documents(args):
        for st in statements(doc):
            if st.get("Effect") != "Allow" or "*" not in [str(r) for r in
                                                         as_list(st.get("Resource"))]:
                continue
            if "NotResource" in st:
                continue
            writes = sorted({str(a) for a in as_list(st.get("Action")) if is_write(str(a))})
            if writes and not _scoped(st, keys):
                report(f"{where}: statement {_sid(st)} allows write action(s) "
                       f"{', '.join(writes)} on Resource '*'.", None)


def _web_identity_statements(
    args: ResourceValidationArgs,
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    doc = policy_document(args.props.get("assumeRolePolicy"))
    for st in statements(doc):
        if st.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in as_list(st.get("Action"))]
        if "sts:AssumeRoleWithWebIdentity" not in actions:
            continue
        for federated in principals(st, "Federated"):
            _, _, issuer = federated.partition(":oidc-provider/")
            if issuer:
                yield issuer, st


def _condition_values(st: Mapping[str, Any], operator: str, key: str) -> list[str] | None:
    cond = as_dict(as_dict(st.get("Condition")).get(operator))
    if key not in cond:
        return None
    return [str(v) for v in as_list(cond[key])]


def _check_irsa_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for issuer, st in _web_identity_statements(args):
        if not EKS_ISSUER.match(issuer):
            continue
        subs = _condition_values(st, "StringEquals", f"{issuer}:sub")
        if subs is None:
            like = _condition_values(st, "StringLike", f"{issuer}:sub")
            detail = " (StringLike is not a pin)" if like is not None else ""
            report(f"Statement {_sid(st)} trusts {issuer} without StringEquals on "
                   f"'{issuer}:sub'{detail}.", None)
        else:
            bad = [s for s in subs if not SERVICE_ACCOUNT_SUB.match(s)]
            if bad or not subs:
                report(f"Statement {_sid(st)}: '{issuer}:sub' must name "
                       f"system:serviceaccount:<namespace>:<name>, got {bad or subs}.", None)
        auds = _condition_values(st, "StringEquals", f"{issuer}:aud")
        if auds != [AUDIENCE]:
            report(f"Statement {_sid(st)}: '{issuer}:aud' must be StringEquals "
                   f"'{AUDIENCE}', got {auds}.", None)


def _check_github_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for issuer, st in _web_identity_statements(args):
        if issuer != GITHUB_ISSUER:
            continue
        auds = _condition_values(st, "StringEquals", f"{issuer}:aud")
        if auds != [AUDIENCE]:
            report(f"Statement {_sid(st)}: '{issuer}:aud' must be StringEquals "
                   f"'{AUDIENCE}', got {auds}.", None)
        subs = (_condition_values(st, "StringEquals", f"{issuer}:sub")
                or _condition_values(st, "StringLike", f"{issuer}:sub"))
        if not subs:
            report(f"Statement {_sid(st)} trusts every GitHub repository: pin '{issuer}:sub'.",
                   None)
            continue
        for sub in subs:
            repo = sub.split(":")[1] if sub.startswith("repo:") and sub.count(":") >= 2 else ""
            owner, _, name = repo.partition("/")
            if not owner or not name or "*" in owner or "*" in name:
                report(f"Statement {_sid(st)}: '{issuer}:sub' value '{sub}' does not pin one "
                       "repository (repo:<owner>/<name>:...).", None)


def _check_denied_attachments(args: ResourceValidationArgs, report: ReportViolation) -> None:
    denied = set(config(args, "denied_policy_arns", DEFAULT_DENIED_POLICIES))
    arns = [args.props.get("policyArn")]
    arns += as_list(args.props.get("managedPolicyArns"))
    arns += as_list(args.props.get("policyArns"))
    for arn in arns:
        if isinstance(arn, str) and arn in denied:
            report(f"Attaches '{arn}'.", None)


POLICIES: list[Policy] = [
    resource_policy(
        "iam-no-wildcard-actions",
        "IAM identity policies allow no '*' or 'service:*' actions and no NotAction.",
        (*DOCUMENT_PROPS, ROLE),
        _check_wildcard_actions,
        remediation="List the actions the workload needs.",
    ),
    resource_policy(
        "iam-no-wildcard-resource-on-write",
        "IAM identity policies allow write actions only on named resources, not '*'.",
        (*DOCUMENT_PROPS, ROLE),
        _check_wildcard_resource,
        schema={"scoping_condition_keys": {
            "type": "array", "items": {"type": "string"}, "default": DEFAULT_SCOPING_KEYS,
            "description": "Condition keys that scope a Resource '*' statement "
                           "(a trailing * matches a prefix)."}},
        remediation="Name the ARNs (bucket prefix, table, secret) the actions apply to.",
    ),
    resource_policy(
        "iam-irsa-trust-pinned",
        "IRSA trust policies pin '<issuer>:sub' to system:serviceaccount:<ns>:<sa> and "
        "'<issuer>:aud' to sts.amazonaws.com with StringEquals.",
        (ROLE,),
        _check_irsa_trust,
    ),
    resource_policy(
        "iam-github-oidc-trust-pinned",
        "GitHub Actions trust policies pin the audience and one repository.",
        (ROLE,),
        _check_github_trust,
    ),
    resource_policy(
        "iam-no-admin-policy-attachment",
        "No role, user or group gets an administrator-level AWS managed policy.",
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
         "aws:iam/userPolicyAttachment:UserPolicyAttachment",
         "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
         "aws:iam/policyAttachment:PolicyAttachment",
         "aws:iam/roleManagedPolicyAttachmentsExclusive:RoleManagedPolicyAttachmentsExclusive",
         ROLE),
        _check_denied_attachments,
        schema={"denied_policy_arns": {
            "type": "array", "minItems": 1, "items": {"type": "string"},
            "default": DEFAULT_DENIED_POLICIES}},
    ),
]
