"""Cluster: EKS endpoint, control-plane logs, secrets encryption; node hardening."""

from __future__ import annotations

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs

from .common import as_dict, as_int, as_list, config, get, is_true, resource_policy

EKS = ("aws:eks/cluster:Cluster",)
DEFAULT_LOG_TYPES = ["api", "audit", "authenticator"]
OPEN = ("0.0.0.0/0", "::/0")


def _check_endpoint(args: ResourceValidationArgs, report: ReportViolation) -> None:
    vpc = as_dict(args.props.get("vpcConfig"))
    # AWS defaults: public endpoint on, reachable from 0.0.0.0/0
    public = vpc.get("endpointPublicAccess")
    if public is not None and not is_true(public):
        return
    cidrs = [str(c) for c in as_list(vpc.get("publicAccessCidrs"))]
    if not cidrs:
        report("The API endpoint is public and open to 0.0.0.0/0 (no publicAccessCidrs).", None)
    elif any(c in OPEN for c in cidrs):
        report(f"The public API endpoint admits {', '.join(c for c in cidrs if c in OPEN)}.",
               None)


def _check_logging(args: ResourceValidationArgs, report: ReportViolation) -> None:
    required = list(config(args, "required_log_types", DEFAULT_LOG_TYPES))
    enabled = {str(t) for t in as_list(args.props.get("enabledClusterLogTypes"))}
    missing = [t for t in required if t not in enabled]
    if missing:
        report(f"Control-plane log types {', '.join(missing)} are not enabled "
               "(enabledClusterLogTypes).", None)


def _check_secrets_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    configs = as_list(args.props.get("encryptionConfig"))
    for cfg in configs:
        if "secrets" in as_list(get(cfg, "resources")) and get(cfg, "provider", "keyArn"):
            return
    report("Kubernetes secrets are not envelope-encrypted with a KMS key (encryptionConfig).",
           None)


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
        "The EKS API endpoint is private, or public only to named CIDRs (not 0.0.0.0/0).",
        EKS, _check_endpoint),
    resource_policy(
        "eks-control-plane-logging", "EKS control-plane logging is enabled.", EKS,
        _check_logging,
        schema={"required_log_types": {
            "type": "array", "minItems": 1, "default": DEFAULT_LOG_TYPES,
            "items": {"enum": ["api", "audit", "authenticator", "controllerManager",
                               "scheduler"]}}}),
    resource_policy(
        "eks-secrets-encryption", "EKS envelope-encrypts Kubernetes secrets with KMS.", EKS,
        _check_secrets_encryption),
    resource_policy(
        "ec2-imdsv2-required",
        "Launch templates and instances require IMDSv2 with a hop limit of at most 2.",
        ("aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance"),
        _check_imdsv2),
    resource_policy(
        "eks-node-group-no-ssh", "EKS node groups do not open SSH (remoteAccess).",
        ("aws:eks/nodeGroup:NodeGroup",), _check_no_remote_access),
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
            report(f"{where} '{value}' is fetched over plain HTTP; use https:// or oci://.",
                   None)


POLICIES += [
    resource_policy(
        "helm-chart-version-pinned",
        "Helm releases and charts pin an exact chart version (no empty, 'latest' or range).",
        (HELM_RELEASE, *HELM_CHARTS), _check_helm_version),
    resource_policy(
        "helm-chart-source-secure",
        "Helm charts come from https:// or oci:// repositories.",
        (HELM_RELEASE, *HELM_CHARTS), _check_helm_source),
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
    refs = [p[len("ref="):] for p in query.split("&") if p.startswith("ref=")]
    if not refs or refs[0].lower() in MOVING_REFS:
        report(f"Remote kustomization '{directory}' does not pin a tag or commit (?ref=).",
               None)


POLICIES += [
    resource_policy(
        "kustomize-source-pinned",
        "Remote kustomizations pin a tag or commit (?ref=), never a moving branch.",
        KUSTOMIZE, _check_kustomize_ref),
]
