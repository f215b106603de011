"""Identity: IAM permissions without wildcards on writes, pinned federated trust, and
permissions boundaries wherever a deployer could grant.

Identity policies are read from every place a program can put them:
``aws:iam/policy:Policy``, role/user/group inline policy resources and a Role's
``inlinePolicies``. A managed policy is read as a permissions boundary (a cap, not a
grant: the wildcard rules skip it) only when the stack shows that it is one: it lies under
the IAM path ``/boundary/``, a role or user of the stack names it as its
``permissionsBoundary``, and nothing attaches it (an attachment whose policy cannot be
told apart counts as attaching every boundary: fail closed). Otherwise it is a grant like
any other. ``iam-role-permissions-boundary`` refuses attaching a ``/boundary/`` policy.
Trust policies
(``assumeRolePolicy``) of roles assumed with a web identity must pin who may assume them:
for EKS (IRSA) the service account (``<issuer>:sub``) and the audience (``<issuer>:aud``);
for GitHub Actions the repository and one subject (no pattern: a pattern admits every
branch, environment or pull request of the repository).

A stack with a deployer identity (a role GitHub Actions or CodeBuild assumes) must cap
every role it creates with a permissions boundary: without one, a deployer that may
create roles and attach policies can make itself an administrator.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from .common import (
    as_dict,
    as_list,
    config,
    get,
    policy_document,
    principals,
    resource_policy,
    resources_of,
    stack_policy,
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
READ_VERBS = (
    "Get",
    "List",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "Query",
    "Scan",
    "BatchGet",
    "Select",
    "View",
    "Read",
    "Check",
    "Validate",
    "Test",
)
# Condition keys that narrow a statement to specific resources, so Resource "*" is
# acceptable with them (e.g. iam:CreateServiceLinkedRole for named services).
# (aws:RequestTag/* limits a create to resources that carry the tag)
DEFAULT_SCOPING_KEYS = [
    "iam:AWSServiceName",
    "iam:PassedToService",
    "aws:ResourceTag/*",
    "aws:RequestTag/*",
    "kms:ViaService",
]
# AWS-managed policies that amount to administrator (PowerUser: everything but IAM, and
# with iam:PassRole on any role that is everything)
DEFAULT_DENIED_POLICIES = [
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
]
BOUNDARY_PATH = "/boundary/"
POLICY = "aws:iam/policy:Policy"
EXCLUSIVE = "aws:iam/roleManagedPolicyAttachmentsExclusive:RoleManagedPolicyAttachmentsExclusive"
ATTACHMENTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    EXCLUSIVE: "policyArns",
    ROLE: "managedPolicyArns",
}
DEPLOYER_SERVICES = ("codebuild.amazonaws.com",)
AWS_MANAGED = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy(/.*/|/)([^/]+)$")
EKS_ISSUER = re.compile(r"^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[A-Za-z0-9]+$")
GITHUB_ISSUER = "token.actions.githubusercontent.com"
SERVICE_ACCOUNT_SUB = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:"
    r"[a-z0-9]([-.a-z0-9]*[a-z0-9])?$"
)
AUDIENCE = "sts.amazonaws.com"


BOUNDED = ("aws:iam/role:Role", "aws:iam/user:User")  # what carries permissionsBoundary
_IAM_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/")


def is_boundary_path(props: Mapping[str, Any]) -> bool:
    return props.get("path") == BOUNDARY_PATH


def _names_policy(value: Any, deps: set[str], policy: PolicyResource) -> bool | None:
    """Whether an ARN input (``value`` with its property dependencies ``deps``) is
    ``policy``: by dependency (a real preview, where the ARN is still unknown), else by
    the ARN IAM gives it (``...:policy/boundary/<name>``); None when it cannot be told."""
    if policy.urn in deps:
        return True
    if isinstance(value, str):
        name = policy.props.get("name")
        return (
            isinstance(name, str)
            and bool(_IAM_POLICY_ARN.match(value))
            and value.split(":", 5)[5] == f"policy{BOUNDARY_PATH}{name}"
        )
    return False if deps else None


def grants_of(args: StackValidationArgs, policy: PolicyResource) -> list[PolicyResource]:
    """The resources that attach ``policy`` as a grant, or may (an ARN that cannot be told
    apart from it counts: fail closed)."""
    found = []
    for resource_type, prop in ATTACHMENTS.items():
        for r in resources_of(args, resource_type):
            raw = r.props.get(prop)
            if raw is None:
                continue  # attaches nothing (a role without managedPolicyArns)
            deps = {d.urn for d in r.property_dependencies.get(prop) or []}
            if any(_names_policy(v, deps, policy) is not False for v in as_list(raw)):
                found.append(r)
    return found


def caps(args: StackValidationArgs) -> set[str]:
    """URNs of the managed policies the stack uses only as permissions boundaries."""
    found = set()
    for policy in resources_of(args, POLICY):
        if not is_boundary_path(policy.props):
            continue
        used = any(
            _names_policy(
                r.props.get("permissionsBoundary"),
                {d.urn for d in r.property_dependencies.get("permissionsBoundary") or []},
                policy,
            )
            for r in resources_of(args, *BOUNDED)
        )
        if used and not grants_of(args, policy):
            found.add(policy.urn)
    return found


def identity_documents(
    resource_type: str, props: Mapping[str, Any], *, cap: bool = False
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, document) for every identity policy the resource declares; a managed policy
    the stack uses only as a boundary (``cap``) declares none."""
    prop = DOCUMENT_PROPS.get(resource_type)
    if prop is not None and not cap:
        doc = policy_document(props.get(prop))
        if doc is not None:
            yield "policy", doc
    if resource_type == ROLE:
        for inline in as_list(props.get("inlinePolicies")):
            doc = policy_document(as_dict(inline).get("policy"))
            if doc is not None:
                yield f"inline policy '{as_dict(inline).get('name')}'", doc


def _documents(
    args: StackValidationArgs,
) -> Iterator[tuple[PolicyResource, str, Mapping[str, Any]]]:
    """(resource, where, document) for every identity policy of the stack, boundaries
    (`caps`) left out."""
    bounded = caps(args)
    for r in resources_of(args, *DOCUMENT_PROPS, ROLE):
        for where, doc in identity_documents(r.resource_type, r.props, cap=r.urn in bounded):
            yield r, where, doc


def is_write(action: str) -> bool:
    """True unless the action (``svc:Verb...``) is a read: wildcards count as writes."""
    _, _, verb = action.partition(":")
    return not verb or not verb.startswith(READ_VERBS)


def _sid(st: Mapping[str, Any]) -> str:
    return str(st.get("Sid") or "(no Sid)")


def _check_wildcard_actions(args: StackValidationArgs, report: ReportViolation) -> None:
    for r, where, doc in _documents(args):
        for st in statements(doc):
            if st.get("Effect") != "Allow":
                continue
            if "NotAction" in st:
                report(f"{where}: statement {_sid(st)} allows NotAction (everything else).", r.urn)
            for action in as_list(st.get("Action")):
                action = str(action)
                if action == "*" or action.endswith(":*"):
                    report(f"{where}: statement {_sid(st)} allows action '{action}'.", r.urn)


def _scoped(st: Mapping[str, Any], keys: list[str]) -> bool:
    present = [str(k) for op in as_dict(st.get("Condition")).values() for k in as_dict(op)]
    for key in present:
        for pattern in keys:
            if key.lower() == pattern.lower() or (
                pattern.endswith("*") and key.lower().startswith(pattern[:-1].lower())
            ):
                return True
    return False


def _check_wildcard_resource(args: StackValidationArgs, report: ReportViolation) -> None:
    keys = list(config(args, "scoping_condition_keys", DEFAULT_SCOPING_KEYS))
    for r, where, doc in _documents(args):
        for st in statements(doc):
            if st.get("Effect") != "Allow" or "*" not in [
                str(r) for r in as_list(st.get("Resource"))
            ]:
                continue
            if "NotResource" in st:
                continue
            writes = sorted({str(a) for a in as_list(st.get("Action")) if is_write(str(a))})
            if writes and not _scoped(st, keys):
                report(
                    f"{where}: statement {_sid(st)} allows write action(s) "
                    f"{', '.join(writes)} on Resource '*'.",
                    r.urn,
                )


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
            report(
                f"Statement {_sid(st)} trusts {issuer} without StringEquals on "
                f"'{issuer}:sub'{detail}.",
                None,
            )
        else:
            bad = [s for s in subs if not SERVICE_ACCOUNT_SUB.match(s)]
            if bad or not subs:
                report(
                    f"Statement {_sid(st)}: '{issuer}:sub' must name "
                    f"system:serviceaccount:<namespace>:<name>, got {bad or subs}.",
                    None,
                )
        auds = _condition_values(st, "StringEquals", f"{issuer}:aud")
        if auds != [AUDIENCE]:
            report(
                f"Statement {_sid(st)}: '{issuer}:aud' must be StringEquals "
                f"'{AUDIENCE}', got {auds}.",
                None,
            )


def _check_github_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for issuer, st in _web_identity_statements(args):
        if issuer != GITHUB_ISSUER:
            continue
        auds = _condition_values(st, "StringEquals", f"{issuer}:aud")
        if auds != [AUDIENCE]:
            report(
                f"Statement {_sid(st)}: '{issuer}:aud' must be StringEquals "
                f"'{AUDIENCE}', got {auds}.",
                None,
            )
        subs = _condition_values(st, "StringEquals", f"{issuer}:sub") or _condition_values(
            st, "StringLike", f"{issuer}:sub"
        )
        if not subs:
            report(
                f"Statement {_sid(st)} trusts every GitHub repository: pin '{issuer}:sub'.", None
            )
            continue
        for sub in subs:
            repo = sub.split(":")[1] if sub.startswith("repo:") and sub.count(":") >= 2 else ""
            owner, _, name = repo.partition("/")
            if not owner or not name or "*" in owner or "*" in name:
                report(
                    f"Statement {_sid(st)}: '{issuer}:sub' value '{sub}' does not pin one "
                    "repository (repo:<owner>/<name>:...).",
                    None,
                )
            elif "*" in sub or "?" in sub:
                report(
                    f"Statement {_sid(st)}: '{issuer}:sub' value '{sub}' is a pattern: it "
                    "admits every branch, environment or pull request it matches; pin the "
                    "one subject the deploy jobs present.",
                    None,
                )


def _aws_managed_name(arn: str) -> str | None:
    """The partition-free form of an AWS-managed policy ARN (arn:aws:iam::aws:policy/...)."""
    match = AWS_MANAGED.match(arn)
    return f"arn:aws:iam::aws:policy{match.group(1)}{match.group(2)}" if match else None


def _check_denied_attachments(args: ResourceValidationArgs, report: ReportViolation) -> None:
    denied = set(config(args, "denied_policy_arns", DEFAULT_DENIED_POLICIES))
    arns = [args.props.get("policyArn")]
    arns += as_list(args.props.get("managedPolicyArns"))
    arns += as_list(args.props.get("policyArns"))
    for arn in arns:
        if isinstance(arn, str) and (arn in denied or _aws_managed_name(arn) in denied):
            report(f"Attaches '{arn}'.", None)


def _trusts_deployer(role: PolicyResource) -> bool:
    """The role is assumed by GitHub Actions (OIDC) or by a CodeBuild project."""
    for st in statements(policy_document(role.props.get("assumeRolePolicy"))):
        if st.get("Effect") != "Allow":
            continue
        if any(p.endswith(f":oidc-provider/{GITHUB_ISSUER}") for p in principals(st, "Federated")):
            return True
        if any(p in DEPLOYER_SERVICES for p in principals(st, "Service")):
            return True
    return False


def _check_boundaries(args: StackValidationArgs, report: ReportViolation) -> None:
    denied = set(config(args, "denied_policy_arns", DEFAULT_DENIED_POLICIES))
    reported: set[str] = set()
    for policy in resources_of(args, POLICY):
        if not is_boundary_path(policy.props):
            continue
        name = get(policy.props, "name") or policy.name
        for r in grants_of(args, policy):
            report(
                f"Attaches the permissions boundary '{name}' as a grant (or an ARN that cannot "
                "be told apart from it): a boundary caps roles, it must never give permissions.",
                r.urn,
            )
            reported.add(r.urn)
    for resource_type, prop in ATTACHMENTS.items():
        for r in resources_of(args, resource_type):
            for arn in as_list(r.props.get(prop)):
                if r.urn in reported or not isinstance(arn, str):
                    continue
                if _IAM_POLICY_ARN.match(arn) and f":policy{BOUNDARY_PATH}" in arn:
                    # a boundary of another stack (or not yet in this one)
                    report(
                        f"Attaches the permissions boundary '{arn}' as a grant: a boundary "
                        "caps roles, it must never give permissions.",
                        r.urn,
                    )
                    reported.add(r.urn)
    roles = resources_of(args, ROLE)
    deployers = sorted(str(get(r.props, "name") or r.name) for r in roles if _trusts_deployer(r))
    if not deployers:
        return
    for role in roles:
        name = get(role.props, "name") or role.name
        boundary = role.props.get("permissionsBoundary")
        deps = role.property_dependencies.get("permissionsBoundary") or []
        if not (isinstance(boundary, str) and boundary) and not deps:
            report(
                f"Role '{name}' has no permissionsBoundary, and the stack has a deployer "
                f"identity ({', '.join(deployers)}): every role the deployer can create or "
                "grant to must be capped by a boundary.",
                role.urn,
            )
        elif isinstance(boundary, str) and (
            boundary in denied or _aws_managed_name(boundary) in denied
        ):
            report(
                f"Role '{name}' has the administrator-level policy '{boundary}' as its "
                "boundary: that caps nothing.",
                role.urn,
            )


POLICIES: list[Policy] = [
    # stack policies: whether a managed policy is a boundary (a cap) or a grant depends on
    # the roles and attachments around it
    stack_policy(
        "iam-no-wildcard-actions",
        "IAM identity policies allow no '*' or 'service:*' actions and no NotAction.",
        _check_wildcard_actions,
        remediation="List the actions the workload needs.",
    ),
    stack_policy(
        "iam-no-wildcard-resource-on-write",
        "IAM identity policies allow write actions only on named resources, not '*'.",
        _check_wildcard_resource,
        schema={
            "scoping_condition_keys": {
                "type": "array",
                "items": {"type": "string"},
                "default": DEFAULT_SCOPING_KEYS,
                "description": "Condition keys that scope a Resource '*' statement "
                "(a trailing * matches a prefix).",
            }
        },
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
    stack_policy(
        "iam-role-permissions-boundary",
        "In a stack with a deployer identity (a role GitHub Actions or CodeBuild assumes), "
        "every IAM role carries a permissions boundary; a boundary (IAM path /boundary/) is "
        "never attached as a grant.",
        _check_boundaries,
        schema={
            "denied_policy_arns": {
                "type": "array",
                "items": {"type": "string"},
                "default": DEFAULT_DENIED_POLICIES,
            }
        },
        remediation="Give the role permissions_boundary (the stack's <prefix>-<env>-boundary); "
        "attach only grant policies.",
    ),
    resource_policy(
        "iam-no-admin-policy-attachment",
        "No role, user or group gets an administrator-level AWS managed policy.",
        (
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "aws:iam/userPolicyAttachment:UserPolicyAttachment",
            "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
            "aws:iam/policyAttachment:PolicyAttachment",
            "aws:iam/roleManagedPolicyAttachmentsExclusive:RoleManagedPolicyAttachmentsExclusive",
            ROLE,
        ),
        _check_denied_attachments,
        schema={
            "denied_policy_arns": {
                "type": "array",
                "items": {"type": "string"},
                "default": DEFAULT_DENIED_POLICIES,
            }
        },
    ),
]
