"""Identity: IAM permissions judged against AWS's action reference, pinned trust, no users.

Identity policies are read from every place a program can put them:
``aws:iam/policy:Policy``, role/user/group inline policy resources, a Role's
``inlinePolicies`` and an SSO permission set's inline policy. Their actions are expanded
against AWS's Service Authorization Reference (`iam_actions`): access levels, not verbs,
decide what reads and what writes, and a resource pattern is a wildcard when it covers any
resource of the action's type (``*``, ``arn:aws:s3:::*/*``, ``NotResource``).
Conditions count only when the evaluator (`iam_eval`) shows they pin a key to fixed
values. A document the rules cannot read (a secret, not JSON) is a violation.

Trust policies (``assumeRolePolicy``) must pin who may assume the role: a web identity
(any OIDC issuer) by a fixed audience and exact subjects, EKS (IRSA) by the service
account, GitHub Actions by the repository, and another AWS account by ``sts:ExternalId``.
The platform creates no IAM users: users and long-lived credentials are refused.

A managed policy is read as a permissions boundary (a cap, not a grant: the wildcard rules
skip it) only when the stack shows that it is one: it lies under the IAM path
``/boundary/``, a role or user of the stack names it as its ``permissionsBoundary``, and
nothing attaches it (an attachment whose policy cannot be told apart counts as attaching
every boundary: fail closed). Otherwise it is a grant like any other. A stack with a
deployer identity (a role GitHub Actions or CodeBuild assumes) must cap every role it
creates with a boundary: without one, a deployer that may create roles and attach
policies can make itself an administrator.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping
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
from .iam_actions import READ
from .iam_eval import Request, Unmodelled, decide, pinned_values
from .iam_grants import (
    WRITE_LEVELS,
    action_findings,
    admitted_accounts,
    allows,
    named,
    principal_spec,
    read_document,
    resource_findings,
    sid,
    where,
)

ROLE = "aws:iam/role:Role"
DOCUMENT_PROPS: dict[str, str] = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": "inlinePolicy",
}
# Condition keys that narrow a statement to specific resources when pinned to fixed
# values, so a wildcard resource is acceptable with them (iam:CreateServiceLinkedRole for
# named services, keys by alias, resources by tag, metrics by namespace). Resources whose
# names AWS generates (vpc-..., key ids) can only be scoped so: by the tag a create must
# carry (aws:RequestTag) and the tag later calls find (aws:ResourceTag).
# iam:PassedToService and kms:ViaService are not among them: they restrict the service,
# not which role or key.
# ec2:Subnet limits network interfaces to those in the named subnets (a CodeBuild or Lambda
# VPC role's CreateNetworkInterfacePermission).
DEFAULT_SCOPING_KEYS = [
    "iam:AWSServiceName",
    "aws:ResourceTag/*",
    "aws:RequestTag/*",
    "kms:ResourceAliases",
    "cloudwatch:namespace",
    "ec2:Subnet",
]
# AWS-managed policies too broad to attach (globs, partition-free): administrator and
# power user, whole-service full access, read access to every resource's data, the
# job-function bundles.
DEFAULT_DENIED_POLICIES = [
    "arn:aws:iam::aws:policy/AdministratorAccess*",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
    "arn:aws:iam::aws:policy/*FullAccess*",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/job-function/*",
]
# AWS-managed policies reviewed as narrow enough to attach: the pack cannot read an
# AWS-managed policy's document (AWS keeps it and changes it), so any other one is refused
# as unseen, whatever its name says (SecretsManagerReadWrite, AmazonS3ReadOnlyAccess and
# AmazonEC2RoleforSSM are broad without being named so). These are the EKS add-ons' and
# nodes' own (partition-free ARNs).
DEFAULT_REVIEWED_MANAGED_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
]
EKS_ISSUER = re.compile(r"^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[A-Za-z0-9]+$")
GITHUB_ISSUER = "token.actions.githubusercontent.com"
SERVICE_ACCOUNT_SUB = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:"
    r"[a-z0-9]([-.a-z0-9]*[a-z0-9])?$"
)
AUDIENCE = "sts.amazonaws.com"
BOUNDARY_PATH = "/boundary/"
POLICY = "aws:iam/policy:Policy"
BOUNDED = (ROLE, "aws:iam/user:User")  # what carries permissionsBoundary
DEPLOYER_SERVICES = ("codebuild.amazonaws.com",)
_IAM_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/")
WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
ASSUME_ROLE = "sts:AssumeRole"
# IAM users and the long-lived credentials that only users have
USER = "aws:iam/user:User"
USER_CREDENTIALS = (
    "aws:iam/accessKey:AccessKey",
    "aws:iam/userLoginProfile:UserLoginProfile",
    "aws:iam/serviceSpecificCredential:ServiceSpecificCredential",
    "aws:iam/signingCertificate:SigningCertificate",
    "aws:iam/sshKey:SshKey",
)
USER_GRANTS = (
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/userPoliciesExclusive:UserPoliciesExclusive",
    "aws:iam/userGroupMembership:UserGroupMembership",
    "aws:iam/groupMembership:GroupMembership",
)


def is_boundary_path(props: Mapping[str, Any]) -> bool:
    return props.get("path") == BOUNDARY_PATH


def _names_policy(value: Any, deps: set[str], policy: PolicyResource) -> bool | None:
    """Whether an ARN input (``value`` with its property dependencies ``deps``) is
    ``policy``: by dependency (a real preview, where the ARN is still unknown), else by
    the ARN IAM gives it (``...:policy/boundary/<name>``); None when it cannot be told."""
    if policy.urn in deps:
        return True
    if isinstance(value, str) and value != "[secret]":
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
    for r in resources_of(args, *ATTACHMENT_TYPES):
        for prop in ATTACHMENT_PROPS:
            raw = r.props.get(prop)
            if raw is None:
                continue  # attaches nothing (a role without managedPolicyArns)
            deps = {d.urn for d in r.property_dependencies.get(prop) or []}
            if any(_names_policy(v, deps, policy) is not False for v in as_list(raw)):
                found.append(r)
                break
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


def _but_caps(
    check: Callable[[ResourceValidationArgs, ReportViolation], None],
) -> Callable[[StackValidationArgs, ReportViolation], None]:
    """A per-resource identity check run over the stack, boundaries (`caps`) left out:
    whether a managed policy caps or grants depends on the roles and attachments around
    it."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        bounded = caps(args)
        for r in resources_of(args, *DOCUMENT_PROPS, ROLE):
            if r.urn in bounded:
                continue
            one = ResourceValidationArgs(
                r.resource_type,
                r.props,
                r.urn,
                r.name,
                r.opts,
                r.provider,
                config=args.get_config(),
            )
            check(one, lambda message, _urn=None, urn=r.urn: report(message, urn))

    return validate


def _documents(
    args: ResourceValidationArgs,
) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    """(where, document, problem) for every identity policy the resource declares; the
    problem says why a document cannot be read (a secret, not JSON)."""
    prop = DOCUMENT_PROPS.get(args.resource_type)
    if prop is not None:
        doc, problem = read_document(args.props.get(prop))
        if doc is not None or problem is not None:
            yield "policy", doc, problem
    if args.resource_type == ROLE:
        inline = args.props.get("inlinePolicies")
        if inline == "[secret]":
            yield "inlinePolicies", None, "is a secret the plan does not show"
        for item in as_list(inline if inline != "[secret]" else None):
            doc, problem = read_document(as_dict(item).get("policy"))
            if doc is not None or problem is not None:
                yield f"inline policy '{as_dict(item).get('name')}'", doc, problem


def _sid(st: Mapping[str, Any]) -> str:
    return sid(st)


def _each_statement(
    args: ResourceValidationArgs, report: ReportViolation
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement) of every readable identity policy; unreadable ones reported."""
    for where_, doc, problem in _documents(args):
        if doc is None:
            report(f"{where_} {problem}.", None)
            continue
        for st in doc["Statement"]:
            yield where_, st


def _check_wildcard_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for where_, st in _each_statement(args, report):
        try:
            findings = action_findings(st)
        except Unmodelled as exc:
            findings = [f"cannot be judged: {exc}."]
        for finding in findings:
            report(f"{where_}: statement {_sid(st)} {finding}", None)


def _wildcard_grants(
    args: ResourceValidationArgs,
    report: ReportViolation,
    levels: tuple[str, ...],
    label: str,
    exclude: tuple[str, ...] = (),
) -> None:
    keys = list(config(args, "scoping_condition_keys", DEFAULT_SCOPING_KEYS))
    for where_, st in _each_statement(args, report):
        try:
            actions, patterns = resource_findings(st, levels, keys, exclude=exclude)
        except Unmodelled as exc:
            report(f"{where_}: statement {_sid(st)} cannot be judged: {exc}.", None)
            continue
        if actions:
            report(
                f"{where_}: statement {_sid(st)} allows {label} action(s) "
                f"{named(actions)} on {where(patterns)}.",
                None,
            )


def _check_wildcard_resource(args: ResourceValidationArgs, report: ReportViolation) -> None:
    _wildcard_grants(args, report, WRITE_LEVELS, "write")


def _check_wildcard_resource_read(args: ResourceValidationArgs, report: ReportViolation) -> None:
    _wildcard_grants(args, report, (READ,), "read", exclude=WRITE_LEVELS)


def _web_identity_statements(
    args: ResourceValidationArgs,
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    doc = policy_document(args.props.get("assumeRolePolicy"))
    for st in statements(doc):
        try:  # sts:AssumeRole*, sts:* and NotAction cover it too
            if not allows(st, WEB_IDENTITY):
                continue
        except Unmodelled:
            continue  # iam-oidc-trust-pinned reports what cannot be judged
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


def _trust_statements(
    args: ResourceValidationArgs, report: ReportViolation
) -> Iterator[dict[str, Any]]:
    """The trust policy's statements; an unreadable trust policy is reported."""
    doc, problem = read_document(args.props.get("assumeRolePolicy"))
    if problem is not None:
        report(f"assumeRolePolicy {problem}.", None)
    yield from (doc or {}).get("Statement", [])


def _check_cross_account_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    own = {str(a) for a in as_list(config(args, "account_ids", []))}
    for st in _trust_statements(args, report):
        try:
            if not allows(st, ASSUME_ROLE):
                continue
            spec = principal_spec(st)
            if spec is not None and "AWS" not in spec:
                continue  # services and identity providers: their own rules
            accounts = admitted_accounts(st)
            external_ids = pinned_values(st.get("Condition") or {}, "sts:ExternalId")
        except Unmodelled as exc:
            report(f"Statement {_sid(st)} cannot be judged: {exc}.", None)
            continue
        if accounts is None:
            report(
                f"Statement {_sid(st)} lets every AWS account assume the role (Principal "
                "'*' without a fixed aws:PrincipalAccount or aws:PrincipalArn).",
                None,
            )
            continue
        foreign = sorted(accounts - own)
        if foreign and not external_ids:
            report(
                f"Statement {_sid(st)} lets account(s) {', '.join(foreign)} assume the role "
                "without a fixed sts:ExternalId (StringEquals); the stack's own accounts "
                "are the rule's account_ids.",
                None,
            )


def _issuer(federated: str) -> str | None:
    """The OIDC issuer a Federated principal names (None for SAML providers)."""
    if ":saml-provider/" in federated:
        return None
    _, sep, issuer = federated.partition(":oidc-provider/")
    return issuer if sep else federated  # accounts.google.com, cognito-identity...


def _check_oidc_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for st in _trust_statements(args, report):
        try:
            if not allows(st, WEB_IDENTITY):
                continue
            spec = principal_spec(st)
            if spec is None:
                report(
                    f"Statement {_sid(st)} lets every identity provider assume the role "
                    "with a web identity (Principal '*').",
                    None,
                )
                continue
            block = st.get("Condition") or {}
            for federated in spec.get("Federated", []):
                issuer = _issuer(federated)
                if issuer is None:
                    continue
                if not pinned_values(block, f"{issuer}:aud"):
                    report(
                        f"Statement {_sid(st)} trusts {issuer} without a fixed audience "
                        f"('{issuer}:aud' with StringEquals).",
                        None,
                    )
                if not pinned_values(block, f"{issuer}:sub"):
                    report(
                        f"Statement {_sid(st)} trusts {issuer} without exact subjects "
                        f"('{issuer}:sub' with StringEquals, no wildcard): any identity "
                        "the issuer vouches for could assume the role.",
                        None,
                    )
        except Unmodelled as exc:
            report(f"Statement {_sid(st)} cannot be judged: {exc}.", None)


def _policy_name(arn: str) -> str | None:
    """``arn:<partition>:iam::aws:policy/<path/name>`` as the partition-free ARN."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam" and parts[4] == "aws":
        return f"arn:aws:iam::aws:{parts[5]}"
    return None


def _denied(arn: str, patterns: list[str]) -> str | None:
    name = _policy_name(arn)
    for pattern in patterns:
        if fnmatch.fnmatchcase(arn.lower(), pattern.lower()) or (
            name is not None and fnmatch.fnmatchcase(name.lower(), pattern.lower())
        ):
            return pattern
    return None


def _check_denied_attachments(args: ResourceValidationArgs, report: ReportViolation) -> None:
    denied = [str(p) for p in config(args, "denied_policy_arns", DEFAULT_DENIED_POLICIES)]
    arns = []
    for prop in ATTACHMENT_PROPS:
        arns += as_list(args.props.get(prop))
    reviewed = {
        str(p) for p in config(args, "reviewed_managed_policies", DEFAULT_REVIEWED_MANAGED_POLICIES)
    }
    for arn in arns:
        if arn == "[secret]":
            report("Attaches a policy whose ARN is a secret the plan does not show.", None)
        elif isinstance(arn, str) and _denied(arn, denied):
            report(f"Attaches '{arn}'.", None)
        elif isinstance(arn, str) and (name := _policy_name(arn)) and name not in reviewed:
            report(
                f"Attaches the AWS-managed policy '{arn}', whose document the pack cannot "
                "read: what it grants is not checked by any rule.",
                None,
            )


def _check_no_users(args: ResourceValidationArgs, report: ReportViolation) -> None:
    name = args.props.get("name") or args.props.get("user") or args.name
    if args.resource_type == USER:
        report(
            f"Creates the IAM user '{name}': people sign in through SSO and workloads "
            "assume roles; the platform has no users.",
            None,
        )
    else:
        report(
            f"Grants to or groups IAM user(s) ({args.resource_type.rsplit(':', 1)[-1]}): "
            "the platform has no users.",
            None,
        )


def _check_no_user_credentials(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = args.resource_type.rsplit(":", 1)[-1]
    user = args.props.get("user") or args.props.get("userName") or "?"
    report(
        f"Creates a long-lived {kind} for user '{user}': use roles with temporary "
        "credentials (OIDC, IRSA, SSO) instead.",
        None,
    )


def _trusts_deployer(role: PolicyResource) -> bool:
    """The role is assumed by GitHub Actions (OIDC) or by a CodeBuild project."""
    doc, _ = read_document(role.props.get("assumeRolePolicy"))
    for st in (doc or {}).get("Statement", []):
        if st.get("Effect") != "Allow":
            continue
        if any(p.endswith(f":oidc-provider/{GITHUB_ISSUER}") for p in principals(st, "Federated")):
            return True
        if any(p in DEPLOYER_SERVICES for p in principals(st, "Service")):
            return True
    return False


def _check_boundaries(args: StackValidationArgs, report: ReportViolation) -> None:
    denied = [str(p) for p in config(args, "denied_policy_arns", DEFAULT_DENIED_POLICIES)]
    reported: set[str] = set()
    for policy in resources_of(args, POLICY):
        if not is_boundary_path(policy.props):
            continue
        name = get(policy.props, "name") or policy.name
        for r in grants_of(args, policy):
            report(
                f"Attaches the permissions boundary '{name}' as a grant (or an ARN that "
                "cannot be told apart from it): a boundary caps roles, it must never give "
                "permissions.",
                r.urn,
            )
            reported.add(r.urn)
    for r in resources_of(args, *ATTACHMENT_TYPES):
        for prop in ATTACHMENT_PROPS:
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
        if boundary == "[secret]":
            report(
                f"Role '{name}' has a permissionsBoundary the plan shows only as [secret]: "
                "the rule cannot tell whether it caps anything.",
                role.urn,
            )
        elif not (isinstance(boundary, str) and boundary) and not deps:
            report(
                f"Role '{name}' has no permissionsBoundary, and the stack has a deployer "
                f"identity ({', '.join(deployers)}): every role the deployer can create or "
                "grant to must be capped by a boundary.",
                role.urn,
            )
        elif isinstance(boundary, str) and _denied(boundary, denied):
            report(
                f"Role '{name}' has the administrator-level policy '{boundary}' as its "
                "boundary: that caps nothing.",
                role.urn,
            )
        elif not _trusts_deployer(role):
            for problem in _boundary_problems(args, role, boundary, set(d.urn for d in deps)):
                report(f"Role '{name}' {problem}", role.urn)


# What a workload role's boundary must refuse: the calls that let a role lift its own
# permissions (or another's) past any boundary: write its policies, make a policy version,
# pass or create a role, change who may assume one. The wildcard rules skip a boundary
# (a cap, not a grant), so its content is judged here.
ESCALATION_PROBES = (
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreateRole",
    "iam:PassRole",
    "iam:DeleteRolePermissionsBoundary",
)
PROBE_ROLE = "arn:aws:iam::000000000000:role/zq-probe"


def _boundary_problems(
    args: StackValidationArgs, role: PolicyResource, boundary: Any, deps: set[str]
) -> list[str]:
    """Why a workload role's boundary does not cap permissions management: it is a policy
    outside the plan (its document cannot be read) or one whose document allows an
    `ESCALATION_PROBES` call."""
    policies = [p for p in resources_of(args, POLICY) if _names_policy(boundary, deps, p) is True]
    if not policies:
        shown = boundary if isinstance(boundary, str) else "its permissionsBoundary"
        if isinstance(boundary, str) and _policy_name(boundary) is not None:
            return []  # an AWS-managed policy: refused by name when denied (above)
        return [
            f"has the boundary {shown!r}, which is not a policy of the plan: whether it "
            "caps permissions management cannot be seen."
        ]
    problems = []
    for policy in policies:
        doc, problem = read_document(policy.props.get("policy"))
        label = get(policy.props, "name") or policy.name
        if problem is not None or doc is None:
            problems.append(f"has the boundary '{label}', whose policy {problem or 'is unset'}.")
            continue
        for action in ESCALATION_PROBES:
            try:
                allowed = decide(Request(action=action, resource=PROBE_ROLE), [doc]).allowed
            except Unmodelled as exc:
                problems.append(f"has the boundary '{label}', which cannot be judged: {exc}.")
                break
            if allowed:
                problems.append(
                    f"has the boundary '{label}', which allows {action}: a role it caps can "
                    "lift its own permissions (or another's) past any boundary."
                )
                break
    return problems


ATTACHMENT_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/roleManagedPolicyAttachmentsExclusive:RoleManagedPolicyAttachmentsExclusive",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
    "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
    ROLE,
)
# the inputs of ATTACHMENT_TYPES that name the policies they attach
ATTACHMENT_PROPS = ("policyArn", "managedPolicyArn", "managedPolicyArns", "policyArns")
SCOPING_SCHEMA = {
    "scoping_condition_keys": {
        "type": "array",
        "items": {"type": "string"},
        "default": DEFAULT_SCOPING_KEYS,
        "description": "Condition keys that scope a wildcard-resource statement when pinned to "
        "fixed values (a trailing * matches a prefix).",
    }
}

POLICIES: list[Policy] = [
    stack_policy(
        "iam-no-wildcard-actions",
        "IAM identity policies allow no '*' or whole-service actions, no NotAction, and no "
        "wildcard that reaches permissions-management actions.",
        _but_caps(_check_wildcard_actions),
        types=(*DOCUMENT_PROPS, ROLE, *ATTACHMENT_TYPES, *BOUNDED),
        remediation="List the actions the workload needs.",
    ),
    stack_policy(
        "iam-no-wildcard-resource-on-write",
        "IAM identity policies allow write, permissions-management and tagging actions only "
        "on named resources (not '*', 'arn:aws:s3:::*/*' or NotResource).",
        _but_caps(_check_wildcard_resource),
        types=(*DOCUMENT_PROPS, ROLE, *ATTACHMENT_TYPES, *BOUNDED),
        schema=SCOPING_SCHEMA,
        remediation="Name the ARNs (bucket prefix, table, secret) the actions apply to.",
    ),
    stack_policy(
        "iam-no-wildcard-resource-on-read",
        "IAM identity policies allow data-reading actions (AWS access level Read: "
        "GetSecretValue, GetObject, ...) only on named resources.",
        _but_caps(_check_wildcard_resource_read),
        types=(*DOCUMENT_PROPS, ROLE, *ATTACHMENT_TYPES, *BOUNDED),
        schema=SCOPING_SCHEMA,
        remediation="Name the secrets, objects or tables the workload reads.",
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
        "iam-oidc-trust-pinned",
        "Web-identity trust policies, for any OIDC issuer, pin '<issuer>:aud' to a fixed "
        "audience and '<issuer>:sub' to exact subjects.",
        (ROLE,),
        _check_oidc_trust,
        remediation="Add StringEquals on '<issuer>:aud' and on '<issuer>:sub' with the exact "
        "subject(s) (GitHub: repo:<owner>/<name>:environment:<env>).",
    ),
    resource_policy(
        "iam-cross-account-trust-external-id",
        "Roles that another AWS account may assume require a fixed sts:ExternalId; no role "
        "trusts every account.",
        (ROLE,),
        _check_cross_account_trust,
        schema={
            "account_ids": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[0-9]{12}$"},
                "default": [],
                "description": "The stack's own AWS accounts (trust within them needs no "
                "external id).",
            }
        },
        remediation="Add Condition StringEquals sts:ExternalId, or list the account in "
        "account_ids when it is the stack's own.",
    ),
    stack_policy(
        "iam-role-permissions-boundary",
        "In a stack with a deployer identity (a role GitHub Actions or CodeBuild assumes), "
        "every IAM role carries a permissions boundary, and a workload role's boundary is a "
        "policy of the plan that refuses permissions management (writing role policies, "
        "policy versions, passing or creating roles); a boundary (IAM path /boundary/) is "
        "never attached as a grant.",
        _check_boundaries,
        types=(POLICY, *ATTACHMENT_TYPES, *BOUNDED),
        schema={
            "denied_policy_arns": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string"},
                "default": DEFAULT_DENIED_POLICIES,
                "description": "Globs of policy ARNs (any partition) that are no boundary.",
            }
        },
        remediation="Give the role permissions_boundary (the stack's <prefix>-<env>-boundary); "
        "attach only grant policies.",
    ),
    resource_policy(
        "iam-no-admin-policy-attachment",
        "No role, user, group or permission set gets an administrator-level or otherwise "
        "broad AWS managed policy (AdministratorAccess, PowerUserAccess, *FullAccess, ...), "
        "nor an AWS managed policy not reviewed (its document cannot be read).",
        ATTACHMENT_TYPES,
        _check_denied_attachments,
        schema={
            "denied_policy_arns": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string"},
                "default": DEFAULT_DENIED_POLICIES,
                "description": "Globs of policy ARNs (any partition) that may not be attached.",
            },
            "reviewed_managed_policies": {
                "type": "array",
                "items": {"type": "string", "pattern": "^arn:aws:iam::aws:policy/[^*?]+$"},
                "default": DEFAULT_REVIEWED_MANAGED_POLICIES,
                "description": "AWS-managed policies (partition-free ARNs, exact) reviewed as "
                "narrow enough to attach; denied_policy_arns still applies to them.",
            },
        },
        remediation="Write an inline or customer-managed policy with the actions and "
        "resources needed (the rules read it).",
    ),
    resource_policy(
        "iam-no-users",
        "The stack creates no IAM users and grants nothing to users.",
        (USER, *USER_GRANTS),
        _check_no_users,
        remediation="Use IAM Identity Center (SSO) for people and roles for workloads.",
    ),
    resource_policy(
        "iam-no-user-credentials",
        "The stack creates no long-lived user credentials (access keys, console passwords, "
        "service-specific credentials, signing certificates, SSH keys).",
        USER_CREDENTIALS,
        _check_no_user_credentials,
        remediation="Assume a role with temporary credentials (OIDC, IRSA, SSO).",
    ),
]
