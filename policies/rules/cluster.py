"""Cluster: EKS endpoint, control-plane logs, secrets encryption; node hardening; Helm and
Kustomize sources; RBAC bindings that would make someone cluster-admin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs

from .cidrs import is_public, open_problem, parse
from .common import as_dict, as_int, as_list, config, get, is_true, resource_policy, stack_policy
from .k8s import hidden, selects
from .network import namespace_of, stack_objects

EKS = ("aws:eks/cluster:Cluster",)
DEFAULT_LOG_TYPES = ["api", "audit", "authenticator"]


def _check_endpoint(args: ResourceValidationArgs, report: ReportViolation) -> None:
    vpc = args.props.get("vpcConfig")
    if not isinstance(vpc, Mapping):
        report(f"The endpoint's access settings (vpcConfig) cannot be seen ({vpc!r}).", None)
        return
    # AWS defaults: public endpoint on, reachable from 0.0.0.0/0
    public = vpc.get("endpointPublicAccess")
    if (
        public is not None
        and not isinstance(public, bool)
        and str(public).lower() not in ("true", "false")
    ):
        report(
            f"endpointPublicAccess cannot be seen ({public!r}): the endpoint may be public.", None
        )
        return
    if public is not None and not is_true(public):
        return
    cidrs = as_list(vpc.get("publicAccessCidrs"))
    if not cidrs:
        report("The API endpoint is public and open to 0.0.0.0/0 (no publicAccessCidrs).", None)
        return
    unseen = [c for c in cidrs if parse(c) is None]
    if unseen:
        report(
            f"publicAccessCidrs holds {', '.join(repr(c) for c in unseen)}, which the pack "
            "cannot read as CIDRs.",
            None,
        )
    problem = open_problem([c for c in cidrs if is_public(c)])
    if problem:
        report(f"The public API endpoint is open to the internet: {problem}.", None)


def _check_logging(args: ResourceValidationArgs, report: ReportViolation) -> None:
    required = list(config(args, "required_log_types", DEFAULT_LOG_TYPES))
    enabled = {str(t) for t in as_list(args.props.get("enabledClusterLogTypes"))}
    missing = [t for t in required if t not in enabled]
    if missing:
        report(
            f"Control-plane log types {', '.join(missing)} are not enabled "
            "(enabledClusterLogTypes).",
            None,
        )


def _check_secrets_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    configs = as_list(args.props.get("encryptionConfig"))
    for cfg in configs:
        if "secrets" in as_list(get(cfg, "resources")) and get(cfg, "provider", "keyArn"):
            return
    report("Kubernetes secrets are not envelope-encrypted with a KMS key (encryptionConfig).", None)


def _check_imdsv2(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if get(args.props, "metadataOptions", "httpTokens") != "required":
        report("IMDSv2 is not required (metadataOptions.httpTokens must be 'required').", None)
    hops = as_int(get(args.props, "metadataOptions", "httpPutResponseHopLimit"))
    if hops is not None and hops > 2:
        report(f"IMDS hop limit {hops} lets pods reach node credentials (at most 2).", None)


def _check_no_remote_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("remoteAccess"):
        report("Nodes accept SSH (remoteAccess): use SSM Session Manager instead.", None)


POLICIES: list[Policy] = [
    resource_policy(
        "eks-endpoint-restricted",
        "The EKS API endpoint is private, or public only to ranges that are not the "
        "internet (0.0.0.0/0 or ranges covering as much).",
        EKS,
        _check_endpoint,
    ),
    resource_policy(
        "eks-control-plane-logging",
        "EKS control-plane logging is enabled.",
        EKS,
        _check_logging,
        schema={
            "required_log_types": {
                "type": "array",
                "minItems": 1,
                "default": DEFAULT_LOG_TYPES,
                "items": {
                    "enum": ["api", "audit", "authenticator", "controllerManager", "scheduler"]
                },
            }
        },
    ),
    resource_policy(
        "eks-secrets-encryption",
        "EKS envelope-encrypts Kubernetes secrets with KMS.",
        EKS,
        _check_secrets_encryption,
    ),
    resource_policy(
        "ec2-imdsv2-required",
        "Launch templates and instances require IMDSv2 with a hop limit of at most 2.",
        ("aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance"),
        _check_imdsv2,
    ),
    resource_policy(
        "eks-node-group-no-ssh",
        "EKS node groups do not open SSH (remoteAccess).",
        ("aws:eks/nodeGroup:NodeGroup",),
        _check_no_remote_access,
    ),
]


# ------------------------------------------------------------------ Helm
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHARTS = ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart")
# Characters of a semver range or wildcard: a range resolves to whatever is newest.
RANGE_CHARS = ("^", "~", "*", ">", "<", "=", "|", " ")


def _check_helm_version(args: ResourceValidationArgs, report: ReportViolation) -> None:
    version = args.props.get("version")
    text = str(version).strip() if version is not None else ""
    chart = args.props.get("chart")
    if not text or text == "latest":
        report(f"Chart '{chart}' has no pinned version (version is {version!r}).", None)
        return
    segments = text.lstrip("v").split(".")
    if any(ch in text for ch in RANGE_CHARS) or any(s in ("x", "X") for s in segments):
        report(f"Chart '{chart}' version '{text}' is a range, not a pinned version.", None)


def _check_helm_source(args: ResourceValidationArgs, report: ReportViolation) -> None:
    repo = get(args.props, "repositoryOpts", "repo")
    chart = args.props.get("chart")
    for where, value in (("repositoryOpts.repo", repo), ("chart", chart)):
        if isinstance(value, str) and value.startswith("http://"):
            report(f"{where} '{value}' is fetched over plain HTTP; use https:// or oci://.", None)


POLICIES += [
    resource_policy(
        "helm-chart-version-pinned",
        "Helm releases and charts pin an exact chart version (no empty, 'latest' or range).",
        (HELM_RELEASE, *HELM_CHARTS),
        _check_helm_version,
    ),
    resource_policy(
        "helm-chart-source-secure",
        "Helm charts come from https:// or oci:// repositories.",
        (HELM_RELEASE, *HELM_CHARTS),
        _check_helm_source,
    ),
]


# ------------------------------------------------------------------ Kustomize
KUSTOMIZE = ("kubernetes:kustomize/v2:Directory", "kubernetes:kustomize:Directory")
MOVING_REFS = ("", "main", "master", "head", "latest", "develop", "trunk")


def _check_kustomize_ref(args: ResourceValidationArgs, report: ReportViolation) -> None:
    directory = args.props.get("directory")
    if not isinstance(directory, str):
        return
    remote = directory.startswith(("http://", "https://", "git::", "ssh://", "github.com/"))
    if not remote:
        return  # a directory of this repository is pinned by the commit itself
    _, _, query = directory.partition("?")
    refs = [p[len("ref=") :] for p in query.split("&") if p.startswith("ref=")]
    if not refs or refs[0].lower() in MOVING_REFS:
        report(f"Remote kustomization '{directory}' does not pin a tag or commit (?ref=).", None)


POLICIES += [
    resource_policy(
        "kustomize-source-pinned",
        "Remote kustomizations pin a tag or commit (?ref=), never a moving branch.",
        KUSTOMIZE,
        _check_kustomize_ref,
    ),
]


# ------------------------------------------------------------------ RBAC
RBAC_GROUP = "rbac.authorization.k8s.io"
# Built-in ClusterRoles that are safe to bind; any other role must be in the plan, so the
# pack can read what it grants. `admin` and `edit` are safe in one namespace (a
# RoleBinding) only: bound cluster-wide they read every namespace's secrets, kube-system's
# service-account tokens included.
SAFE_BUILTIN_ROLES = (
    "view",
    "system:auth-delegator",
    "system:discovery",
    "system:basic-user",
    "system:public-info-viewer",
)
NAMESPACE_ADMIN_ROLES = ("admin", "edit")
AWS_AUTH = ("kube-system", "aws-auth")
ESCALATING = {
    # verb: resources where it hands out more than the holder has
    "escalate": ("roles", "clusterroles"),
    "bind": ("roles", "clusterroles"),
    "impersonate": ("users", "groups", "serviceaccounts", "userextras"),
}


# Grants that make their holder cluster-admin when they reach every namespace (a
# ClusterRoleBinding), after Kubernetes' "RBAC good practices" (privilege escalation
# risks): (what it does, API groups, resources, verbs). A pod created in kube-system runs
# as any of its service accounts; a token minted for one, an exec into one of its pods, a
# secret read from it, a kubelet reached through nodes/proxy, a hostPath volume, an
# approved client certificate or a webhook that rewrites every object all end the same.
CLUSTER_WIDE_ESCALATIONS: tuple[
    tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...
] = (
    ("reads every namespace's secrets", ("",), ("secrets",), ("get", "list", "watch")),
    (
        "creates pods in every namespace, as any of its service accounts",
        ("", "apps", "batch"),
        (
            "pods",
            "deployments",
            "daemonsets",
            "statefulsets",
            "replicasets",
            "replicationcontrollers",
            "jobs",
            "cronjobs",
        ),
        ("create",),
    ),
    (
        "runs commands in every namespace's pods",
        ("",),
        ("pods/exec", "pods/attach", "pods/ephemeralcontainers"),
        ("create", "update", "patch", "get"),
    ),
    ("mints tokens for every service account", ("",), ("serviceaccounts/token",), ("create",)),
    ("reaches every kubelet's API", ("",), ("nodes/proxy",), ("get", "create")),
    ("mounts any node path (a hostPath volume)", ("",), ("persistentvolumes",), ("create",)),
    (
        "approves client certificates (any user or group)",
        ("certificates.k8s.io",),
        ("certificatesigningrequests/approval", "signers"),
        ("update", "patch", "approve"),
    ),
    (
        "installs admission webhooks that see and rewrite every object",
        ("admissionregistration.k8s.io",),
        ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"),
        ("create", "update", "patch"),
    ),
)
# verbs a rule's resourceNames do not narrow (a create names no object yet; list and watch
# return every object)
UNNAMED_VERBS = ("create", "list", "watch")


def _strings_of(value: Any) -> list[str]:
    return [str(v).lower() for v in as_list(value)]


def admin_grant(rule: Any, cluster_wide: bool = False) -> str | None:
    """Why one RBAC rule is cluster-admin-equivalent, or None; ``cluster_wide`` when it
    reaches every namespace (a ClusterRoleBinding), where more grants escalate."""
    verbs = _strings_of(get(rule, "verbs"))
    resources = _strings_of(get(rule, "resources"))
    urls = _strings_of(get(rule, "nonResourceURLs"))
    if "*" in verbs and ("*" in resources or "*" in urls):
        return "'*' verbs on '*'"
    for verb, targets in ESCALATING.items():
        hit = [r for r in resources if r == "*" or r in targets]
        if hit and (verb in verbs or "*" in verbs):
            return f"'{verb if verb in verbs else '*'}' on {', '.join(hit)}"
    if not cluster_wide:
        return None
    groups = _strings_of(get(rule, "apiGroups"))
    named = bool(as_list(get(rule, "resourceNames")))
    for what, in_groups, targets, risky in CLUSTER_WIDE_ESCALATIONS:
        if not ("*" in groups or any(g in in_groups for g in groups)):
            continue
        # RBAC matches '*', the exact resource, and '*/<subresource>' (any resource's)
        hit = [
            r
            for r in resources
            if r == "*"
            or r in targets
            or (r.startswith("*/") and any(t.endswith("/" + r[2:]) for t in targets))
        ]
        held = [v for v in verbs if (v == "*" or v in risky) and (not named or v in UNNAMED_VERBS)]
        if hit and held:
            return f"{what}: {', '.join(held)} on {', '.join(hit)}"
    return None


def _check_admin_bindings(args: Any, report: ReportViolation) -> None:
    allowed = {str(s) for s in as_list(config(args, "allowed_subjects", []))}
    placed = [p for p in stack_objects(args) if p.obj.group == RBAC_GROUP]
    cluster_roles = {p.obj.name: p.obj for p in placed if p.obj.kind == "ClusterRole"}
    roles = {(namespace_of(p.obj), p.obj.name): p.obj for p in placed if p.obj.kind == "Role"}
    for p in placed:
        obj = p.obj
        if obj.kind not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        ref = get(obj.props, "roleRef")
        kind, name = get(ref, "kind"), get(ref, "name")
        where = f"{obj.prefix()}{obj.kind} '{obj.name}'"
        if (
            not isinstance(kind, str)
            or not isinstance(name, str)
            or name in ("[secret]", "[unknown]")
        ):
            report(f"{where} binds a role the pack cannot see ({ref!r}).", p.resource.urn)
            continue
        if kind == "ClusterRole" and name == "cluster-admin":
            why = "cluster-admin"
        elif (
            kind == "ClusterRole"
            and name in NAMESPACE_ADMIN_ROLES
            and obj.kind == "ClusterRoleBinding"
            and name not in cluster_roles
        ):
            why = f"ClusterRole '{name}' in every namespace"
        else:
            role = (
                cluster_roles.get(name)
                if kind == "ClusterRole"
                else roles.get((namespace_of(obj), name))
            )
            if role is None:
                if kind == "ClusterRole" and (
                    name in SAFE_BUILTIN_ROLES
                    or (name in NAMESPACE_ADMIN_ROLES and obj.kind == "RoleBinding")
                ):
                    continue
                report(
                    f"{where} binds {kind} '{name}', which is not in the plan: what it grants "
                    "cannot be seen.",
                    p.resource.urn,
                )
                continue
            why = _role_grant(role, cluster_roles, obj.kind == "ClusterRoleBinding")
            if why is None:
                continue
            why = f"{kind} '{name}' ({why})"
        subjects = [as_dict(s) for s in as_list(get(obj.props, "subjects"))]
        shown = [_subject(s, obj) for s in subjects]
        outside = [s for s in shown if s not in allowed]
        if outside or not subjects:
            report(
                f"{where} grants {why} to {', '.join(outside) or 'no listed subject'}: "
                "administrators reach the cluster through its access entries, not RBAC "
                "bindings.",
                p.resource.urn,
            )
    _check_aggregated_into_builtins(placed, report)
    _check_aws_auth(args, report)


def _check_aws_auth(args: Any, report: ReportViolation) -> None:
    """The aws-auth ConfigMap maps IAM principals to Kubernetes groups; system:masters is
    cluster-admin that no RBAC object shows."""
    for p in stack_objects(args):
        if p.obj.kind != "ConfigMap" or p.obj.group not in ("", "core"):
            continue
        if (namespace_of(p.obj), p.obj.name) != AWS_AUTH:
            continue
        for key in ("mapRoles", "mapUsers"):
            text = get(p.obj.props, "data", key)
            if text is None:
                continue
            try:
                entries = (
                    yaml.safe_load(text) if isinstance(text, str) and not hidden(text) else None
                )
            except yaml.YAMLError:
                entries = None
            if not isinstance(entries, list):
                report(
                    f"{p.obj.prefix()}aws-auth {key} cannot be read ({str(text)[:40]!r}): "
                    "the groups it grants cannot be seen.",
                    p.resource.urn,
                )
                continue
            for entry in entries:
                groups = [str(g) for g in as_list(get(entry, "groups"))]
                if "system:masters" in groups:
                    who = get(entry, "rolearn") or get(entry, "userarn")
                    report(
                        f"{p.obj.prefix()}aws-auth {key} puts {who} in system:masters "
                        "(cluster-admin): administrators reach the cluster through its "
                        "access entries.",
                        p.resource.urn,
                    )


def _role_grant(role: Any, cluster_roles: dict[Any, Any], cluster_wide: bool) -> str | None:
    rules = list(as_list(get(role.props, "rules")))
    # an aggregated ClusterRole gets the rules of every ClusterRole its selectors match
    for selector in as_list(get(role.props, "aggregationRule", "clusterRoleSelectors")):
        for other in cluster_roles.values():
            if other is not role and selects(selector, get(other.props, "metadata", "labels")):
                rules += as_list(get(other.props, "rules"))
    for rule in rules:
        if not isinstance(rule, Mapping):
            return f"a rule the pack cannot see ({rule!r})"
        why = admin_grant(rule, cluster_wide)
        if why:
            return why
    return None


# The built-in roles the API server aggregates: a ClusterRole labelled
# `rbac.authorization.k8s.io/aggregate-to-<role>: "true"` adds its rules to that role for
# every holder, bindings outside the plan included. `view` is safe to bind cluster-wide
# (SAFE_BUILTIN_ROLES), so what joins it must be too; `edit` and `admin` only in a namespace.
AGGREGATE_LABEL = "rbac.authorization.k8s.io/aggregate-to-"
AGGREGATED_BUILTINS = {"view": True, "edit": False, "admin": False}  # role: held cluster-wide


def _check_aggregated_into_builtins(placed: list[Any], report: ReportViolation) -> None:
    for p in placed:
        if p.obj.kind != "ClusterRole":
            continue
        labels = as_dict(get(p.obj.props, "metadata", "labels"))
        for builtin, cluster_wide in AGGREGATED_BUILTINS.items():
            if str(labels.get(AGGREGATE_LABEL + builtin, "")).lower() != "true":
                continue
            for rule in as_list(get(p.obj.props, "rules")):
                why = (
                    admin_grant(rule, cluster_wide)
                    if isinstance(rule, Mapping)
                    else f"a rule the pack cannot see ({rule!r})"
                )
                if why:
                    report(
                        f"{p.obj.prefix()}ClusterRole '{p.obj.name}' adds {why} to the "
                        f"built-in ClusterRole '{builtin}' (label {AGGREGATE_LABEL}{builtin}): "
                        f"every holder of '{builtin}' gets it.",
                        p.resource.urn,
                    )
                    break


def _subject(subject: Mapping[str, Any], binding: Any) -> str:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or get(binding.props, "metadata", "namespace")
        return f"ServiceAccount:{ns}/{name}"
    return f"{kind}:{name}"


POLICIES += [
    stack_policy(
        "k8s-no-cluster-admin-binding",
        "No ClusterRoleBinding or RoleBinding grants cluster-admin or an equivalent role "
        "('*' verbs on '*', escalate/bind on roles, impersonate, admin/edit cluster-wide, "
        "and cluster-wide: secrets read, pod or workload create, exec, service account "
        "tokens, nodes/proxy, persistent volumes, certificate approval, admission "
        "webhooks), no ClusterRole adds such grants to the built-in view, edit or admin, "
        "and aws-auth maps no one to system:masters, outside the allowed subjects.",
        _check_admin_bindings,
        types=tuple(
            f"kubernetes:rbac.authorization.k8s.io/v1:{kind}"
            for kind in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
        ),
        schema={
            "allowed_subjects": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Subjects allowed admin roles: 'ServiceAccount:<ns>/<name>', "
                "'User:<name>', 'Group:<name>'.",
            }
        },
        remediation="Grant the narrow role the subject needs; administrators use the EKS "
        "access entries.",
    ),
]
