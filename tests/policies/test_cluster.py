"""Cluster rules: EKS endpoint, logging, secrets encryption, IMDSv2, SSH, Helm charts."""

from __future__ import annotations

from typing import Any

import pytest
from harness import messages, res, unseen

EKS = "aws:eks/cluster:Cluster"
EKS_OK: dict[str, Any] = {
    "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False},
    "enabledClusterLogTypes": ["api", "audit", "authenticator"],
    "encryptionConfig": {
        "provider": {"keyArn": "arn:aws:kms:us-east-1:1:key/k"},
        "resources": ["secrets"],
    },
}
EKS_POLICIES = ["eks-endpoint-restricted", "eks-control-plane-logging", "eks-secrets-encryption"]


@pytest.mark.parametrize("policy", EKS_POLICIES)
def test_eks_rules_pass(policy: str) -> None:
    assert messages(policy, [res(EKS, "c", EKS_OK)]) == []


def test_eks_endpoint_restricted_passes_public_with_cidrs() -> None:
    vpc = {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}
    assert messages("eks-endpoint-restricted", [res(EKS, "c", {**EKS_OK, "vpcConfig": vpc})]) == []


def _public(*cidrs: object, **extra: object) -> dict[str, Any]:
    vpc = {"endpointPublicAccess": True, "publicAccessCidrs": list(cidrs), **extra}
    return {**EKS_OK, "vpcConfig": vpc}


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            _public("0.0.0.0/1", "128.0.0.0/1"),
            "The public API endpoint is open to the internet: 0.0.0.0/1, 128.0.0.0/1 together "
            "reach 100% of the public IPv4 internet.",
        ),
        (
            _public(*[f"{i}.0.0.0/8" for i in range(1, 224) if i not in (10, 127)]),
            "The public API endpoint is open to the internet: 1.0.0.0/8, 2.0.0.0/8, 3.0.0.0/8, "
            "4.0.0.0/8, 5.0.0.0/8, 6.0.0.0/8 and 193 more together reach 100% of the public IPv4 "
            "internet.",
        ),
        (
            _public("203.0.113.7/0"),
            "The public API endpoint is open to the internet: 203.0.113.7/0 reaches 100% of the "
            "public IPv4 internet.",
        ),
        (
            _public("[secret]"),
            unseen(".vpcConfig.publicAccessCidrs.0"),
        ),
        (
            _public("81.2.69.0/24", endpointPublicAccess="[unknown]"),
            "endpointPublicAccess cannot be seen ('[unknown]'): the endpoint may be public.",
        ),
        (
            {**EKS_OK, "vpcConfig": "[secret]"},
            unseen(".vpcConfig"),
        ),
    ],
    ids=[
        "halves",
        "every-public-slash8",
        "host-bits",
        "secret-cidrs",
        "unknown-flag",
        "secret-vpc-config",
    ],
)
def test_eks_public_endpoint_open_cidrs_matched_by_coverage(
    inputs: dict[str, Any], message: str
) -> None:
    assert messages("eks-endpoint-restricted", [res(EKS, "c", inputs)]) == [message]


def test_eks_public_endpoint_named_ranges_pass() -> None:
    inputs = _public("81.2.69.0/24", "4.0.0.0/9", "10.0.0.0/8")
    assert messages("eks-endpoint-restricted", [res(EKS, "c", inputs)]) == []


@pytest.mark.parametrize(
    ("policy", "change", "message"),
    [
        (
            "eks-endpoint-restricted",
            {"vpcConfig": {"subnetIds": ["s"]}},
            "The API endpoint is public and open to 0.0.0.0/0 (no publicAccessCidrs).",
        ),
        (
            "eks-endpoint-restricted",
            {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}},
            "The public API endpoint is open to the internet: 0.0.0.0/0 reaches 100% of the "
            "public IPv4 internet.",
        ),
        (
            "eks-control-plane-logging",
            {"enabledClusterLogTypes": ["api"]},
            "Control-plane log types audit, authenticator are not enabled "
            "(enabledClusterLogTypes).",
        ),
        (
            "eks-secrets-encryption",
            {"encryptionConfig": None},
            "Kubernetes secrets are not envelope-encrypted with a KMS key (encryptionConfig).",
        ),
    ],
)
def test_eks_rules_fail(policy: str, change: dict[str, Any], message: str) -> None:
    inputs = {k: v for k, v in {**EKS_OK, **change}.items() if v is not None}
    assert messages(policy, [res(EKS, "c", inputs)]) == [message]


LT = "aws:ec2/launchTemplate:LaunchTemplate"


def test_ec2_imdsv2_required_passes() -> None:
    lt = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1}}
    assert messages("ec2-imdsv2-required", [res(LT, "lt", lt)]) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"httpTokens": "optional"},
            "IMDSv2 is not required (metadataOptions.httpTokens must be 'required').",
        ),
        (
            {"httpTokens": "required", "httpPutResponseHopLimit": 3},
            "IMDS hop limit 3 lets pods reach node credentials (at most 2).",
        ),
    ],
)
def test_ec2_imdsv2_required_fails(options: dict[str, Any], message: str) -> None:
    assert messages("ec2-imdsv2-required", [res(LT, "lt", {"metadataOptions": options})]) == [
        message
    ]


NG = "aws:eks/nodeGroup:NodeGroup"


def test_eks_node_group_no_ssh_passes() -> None:
    assert messages("eks-node-group-no-ssh", [res(NG, "ng", {"clusterName": "c"})]) == []


def test_eks_node_group_no_ssh_fails() -> None:
    rs = [res(NG, "ng", {"clusterName": "c", "remoteAccess": {"ec2SshKey": "ops"}})]
    assert messages("eks-node-group-no-ssh", rs) == [
        "Nodes accept SSH (remoteAccess): use SSM Session Manager instead."
    ]


RELEASE = "kubernetes:helm.sh/v3:Release"
CHART = "oci://ghcr.io/kserve/charts/kserve-crd"


def test_helm_chart_version_pinned_passes() -> None:
    rs = [
        res(RELEASE, "r", {"chart": CHART, "version": "v0.20.0"}),
        res("kubernetes:helm.sh/v4:Chart", "c", {"chart": "cert-manager", "version": "1.16.2"}),
    ]
    assert messages("helm-chart-version-pinned", rs) == []


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (None, f"Chart '{CHART}' has no pinned version (version is None)."),
        ("latest", f"Chart '{CHART}' has no pinned version (version is 'latest')."),
        ("^1.2.0", f"Chart '{CHART}' version '^1.2.0' is a range, not a pinned version."),
        ("1.x", f"Chart '{CHART}' version '1.x' is a range, not a pinned version."),
    ],
)
def test_helm_chart_version_pinned_fails(version: str | None, message: str) -> None:
    inputs = {"chart": CHART} if version is None else {"chart": CHART, "version": version}
    assert messages("helm-chart-version-pinned", [res(RELEASE, "r", inputs)]) == [message]


def test_helm_chart_source_secure_passes() -> None:
    rs = [
        res(
            RELEASE,
            "r",
            {
                "chart": "kube-prometheus-stack",
                "version": "65.1.0",
                "repositoryOpts": {"repo": "https://prometheus-community.github.io/helm-charts"},
            },
        )
    ]
    assert messages("helm-chart-source-secure", rs) == []


def test_helm_chart_source_secure_fails() -> None:
    rs = [
        res(
            RELEASE,
            "r",
            {
                "chart": "x",
                "version": "1.0.0",
                "repositoryOpts": {"repo": "http://charts.example.com"},
            },
        )
    ]
    assert messages("helm-chart-source-secure", rs) == [
        "repositoryOpts.repo 'http://charts.example.com' is fetched over plain HTTP; use "
        "https:// or oci://."
    ]


KUSTOMIZE = "kubernetes:kustomize/v2:Directory"
KFP = "https://github.com/kubeflow/pipelines/manifests/kustomize/cluster-scoped-resources"


def test_kustomize_source_pinned_passes_tags_and_local_directories() -> None:
    rs = [
        res(KUSTOMIZE, "remote", {"directory": f"{KFP}?ref=2.5.0"}),
        res(KUSTOMIZE, "local", {"directory": "/work/components/manifests/kfp"}),
    ]
    assert messages("kustomize-source-pinned", rs) == []


@pytest.mark.parametrize("directory", [KFP, f"{KFP}?ref=master"])
def test_kustomize_source_pinned_fails(directory: str) -> None:
    assert messages("kustomize-source-pinned", [res(KUSTOMIZE, "k", {"directory": directory})]) == [
        f"Remote kustomization '{directory}' does not pin a tag or commit (?ref=)."
    ]


# ---- RBAC: no binding makes anyone cluster-admin

RBAC = "kubernetes:rbac.authorization.k8s.io/v1"
ADMIN = "k8s-no-cluster-admin-binding"
TEAM_SA = {"kind": "ServiceAccount", "name": "runner", "namespace": "team-a"}


def binding(
    kind: str, role_kind: str, role: str, *subjects: dict[str, Any], ns: str | None = "team-a"
) -> dict[str, Any]:
    meta = {"name": f"{role}-binding", **({"namespace": ns} if kind == "RoleBinding" else {})}
    return res(
        f"{RBAC}:{kind}",
        f"{kind}-{role}",
        {
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": list(subjects) or [TEAM_SA],
        },
    )


def role(kind: str, name: str, rules: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    metadata = {"name": name, **({"namespace": "team-a"} if kind == "Role" else {}), **meta}
    return res(f"{RBAC}:{kind}", f"{kind}-{name}", {"metadata": metadata, "rules": rules})


READER = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
STAR = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]


def test_admin_binding_rule_passes_narrow_roles() -> None:
    rs = [
        role("Role", "reader", READER),
        binding("RoleBinding", "Role", "reader"),
        binding("RoleBinding", "ClusterRole", "view"),
        role("ClusterRole", "pod-reader", READER),
        binding("ClusterRoleBinding", "ClusterRole", "pod-reader"),
    ]
    assert messages(ADMIN, rs) == []


SUFFIX = "administrators reach the cluster through its access entries, not RBAC bindings."


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (
            [binding("ClusterRoleBinding", "ClusterRole", "cluster-admin")],
            "ClusterRoleBinding 'cluster-admin-binding' grants cluster-admin to "
            "ServiceAccount:team-a/runner: ",
        ),
        (
            [binding("RoleBinding", "ClusterRole", "cluster-admin")],
            "RoleBinding 'cluster-admin-binding' grants cluster-admin to "
            "ServiceAccount:team-a/runner: ",
        ),
        (
            [
                role("ClusterRole", "god", STAR),
                binding(
                    "ClusterRoleBinding", "ClusterRole", "god", {"kind": "Group", "name": "devs"}
                ),
            ],
            "ClusterRoleBinding 'god-binding' grants ClusterRole 'god' ('*' verbs on '*') to "
            "Group:devs: ",
        ),
        (
            [role("Role", "ns-god", STAR), binding("RoleBinding", "Role", "ns-god")],
            "RoleBinding 'ns-god-binding' grants Role 'ns-god' ('*' verbs on '*') to "
            "ServiceAccount:team-a/runner: ",
        ),
        (
            [
                role(
                    "ClusterRole",
                    "escalator",
                    [
                        {
                            "apiGroups": ["rbac.authorization.k8s.io"],
                            "resources": ["clusterroles"],
                            "verbs": ["escalate", "bind"],
                        }
                    ],
                ),
                binding("ClusterRoleBinding", "ClusterRole", "escalator"),
            ],
            "ClusterRoleBinding 'escalator-binding' grants ClusterRole 'escalator' ('escalate' on "
            "clusterroles) to ServiceAccount:team-a/runner: ",
        ),
        (
            [
                role(
                    "ClusterRole",
                    "imp",
                    [
                        {
                            "apiGroups": [""],
                            "resources": ["users", "groups"],
                            "verbs": ["impersonate"],
                        }
                    ],
                ),
                binding("ClusterRoleBinding", "ClusterRole", "imp"),
            ],
            "ClusterRoleBinding 'imp-binding' grants ClusterRole 'imp' ('impersonate' on users, "
            "groups) to ServiceAccount:team-a/runner: ",
        ),
        (
            [
                role("ClusterRole", "umbrella", [], aggregationRule=None),
                role("ClusterRole", "piece", STAR, labels={"agg": "yes"}),
                binding("ClusterRoleBinding", "ClusterRole", "umbrella"),
            ],
            "ClusterRoleBinding 'umbrella-binding' grants ClusterRole 'umbrella' "
            "('*' verbs on '*') "
            "to ServiceAccount:team-a/runner: ",
        ),
        (
            [
                role(
                    "ClusterRole",
                    "rbac-admin",
                    [
                        {
                            "apiGroups": ["rbac.authorization.k8s.io"],
                            "resources": ["clusterroles"],
                            "verbs": ["*"],
                        }
                    ],
                ),
                binding("ClusterRoleBinding", "ClusterRole", "rbac-admin"),
            ],
            "ClusterRoleBinding 'rbac-admin-binding' grants ClusterRole 'rbac-admin' ('*' on "
            "clusterroles) to ServiceAccount:team-a/runner: ",
        ),
    ],
    ids=[
        "cluster-admin-crb",
        "rolebinding-to-cluster-admin",
        "star-clusterrole",
        "star-role",
        "escalate",
        "impersonate",
        "aggregated",
        "star-verbs-on-clusterroles",
    ],
)
def test_cluster_admin_equivalent_bindings(resources: list[Any], message: str) -> None:
    for r in resources:  # the aggregated role selects the piece by label
        if r["name"] == "ClusterRole-umbrella":
            r["inputs"]["aggregationRule"] = {
                "clusterRoleSelectors": [{"matchLabels": {"agg": "yes"}}]
            }
    assert messages(ADMIN, resources) == [message + SUFFIX]


def _rule(groups: list[str], resources: list[str], verbs: list[str], **extra: Any) -> dict:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs, **extra}


# Grants that are cluster-admin once they reach every namespace (Kubernetes' RBAC good
# practices, privilege escalation risks): none is '*', escalate, bind or impersonate.
ESCALATIONS = {
    "secrets": (
        [_rule([""], ["secrets"], ["get", "list"])],
        "reads every namespace's secrets: get, list on secrets",
    ),
    "pods": (
        [_rule(["apps"], ["deployments"], ["create"])],
        "creates pods in every namespace, as any of its service accounts: create on deployments",
    ),
    "exec": (
        [_rule([""], ["pods/exec"], ["create"])],
        "runs commands in every namespace's pods: create on pods/exec",
    ),
    "tokens": (
        [_rule([""], ["serviceaccounts/token"], ["create"])],
        "mints tokens for every service account: create on serviceaccounts/token",
    ),
    "nodes-proxy": (
        [_rule([""], ["nodes/proxy"], ["get"])],
        "reaches every kubelet's API: get on nodes/proxy",
    ),
    "hostpath-pv": (
        [_rule([""], ["persistentvolumes"], ["create"])],
        "mounts any node path (a hostPath volume): create on persistentvolumes",
    ),
    "csr-approval": (
        [_rule(["certificates.k8s.io"], ["certificatesigningrequests/approval"], ["update"])],
        "approves client certificates (any user or group): update on "
        "certificatesigningrequests/approval",
    ),
    "webhooks": (
        [_rule(["admissionregistration.k8s.io"], ["mutatingwebhookconfigurations"], ["*"])],
        "installs admission webhooks that see and rewrite every object: * on "
        "mutatingwebhookconfigurations",
    ),
    "any-resource-exec": (
        [_rule([""], ["*/exec"], ["create"])],
        "runs commands in every namespace's pods: create on */exec",
    ),
    "read-everything": (
        [_rule(["*"], ["*"], ["get", "list", "watch"])],
        "reads every namespace's secrets: get, list, watch on *",
    ),
}


@pytest.mark.parametrize(("rules", "why"), ESCALATIONS.values(), ids=ESCALATIONS.keys())
def test_cluster_wide_escalation_grants_are_cluster_admin(rules: list[Any], why: str) -> None:
    rs = [
        role("ClusterRole", "sneaky", rules),
        binding("ClusterRoleBinding", "ClusterRole", "sneaky", {"kind": "Group", "name": "devs"}),
    ]
    assert messages(ADMIN, rs) == [
        f"ClusterRoleBinding 'sneaky-binding' grants ClusterRole 'sneaky' ({why}) to "
        "Group:devs: " + SUFFIX
    ]


@pytest.mark.parametrize(("rules", "why"), ESCALATIONS.values(), ids=ESCALATIONS.keys())
def test_the_same_grants_in_one_namespace_are_not(rules: list[Any], why: str) -> None:
    """A RoleBinding keeps them in its namespace (as `admin` and `edit` are there)."""
    rs = [
        role("ClusterRole", "sneaky", rules),
        binding("RoleBinding", "ClusterRole", "sneaky"),
        role("Role", "local", rules),
        binding("RoleBinding", "Role", "local"),
    ]
    assert messages(ADMIN, rs) == []


def test_resource_names_narrow_reads_but_not_creates() -> None:
    named_read = [_rule([""], ["secrets"], ["get"], resourceNames=["app-config"])]
    named_create = [_rule([""], ["pods"], ["create"], resourceNames=["x"])]
    assert (
        messages(
            ADMIN,
            [
                role("ClusterRole", "r", named_read),
                binding("ClusterRoleBinding", "ClusterRole", "r"),
            ],
        )
        == []
    )
    assert messages(
        ADMIN,
        [role("ClusterRole", "c", named_create), binding("ClusterRoleBinding", "ClusterRole", "c")],
    ) == [
        "ClusterRoleBinding 'c-binding' grants ClusterRole 'c' (creates pods in every "
        "namespace, as any of its service accounts: create on pods) to "
        "ServiceAccount:team-a/runner: " + SUFFIX
    ]


def test_a_role_aggregated_into_the_builtin_view_role_is_judged_as_view() -> None:
    """`view` is safe to bind cluster-wide only while nothing adds to it: a ClusterRole
    labelled aggregate-to-view hands its rules to every holder of view."""
    label = {"rbac.authorization.k8s.io/aggregate-to-view": "true"}
    secrets = [_rule([""], ["secrets"], ["get", "list"])]
    rs = [
        role("ClusterRole", "extra", secrets, labels=label),
        binding("ClusterRoleBinding", "ClusterRole", "view"),
    ]
    assert messages(ADMIN, rs) == [
        "ClusterRole 'extra' adds reads every namespace's secrets: get, list on secrets to "
        "the built-in ClusterRole 'view' (label rbac.authorization.k8s.io/aggregate-to-view): "
        "every holder of 'view' gets it."
    ]
    # into `edit`, held in a namespace only, reading secrets is what edit already does
    to_edit = [
        role("ClusterRole", "extra", secrets, labels={AGG_EDIT: "true"}),
        role("ClusterRole", "crds", READER, labels=label),
    ]
    assert messages(ADMIN, to_edit) == []


AGG_EDIT = "rbac.authorization.k8s.io/aggregate-to-edit"


def test_binding_to_a_role_outside_the_plan_cannot_be_seen() -> None:
    assert messages(ADMIN, [binding("ClusterRoleBinding", "ClusterRole", "mystery")]) == [
        "ClusterRoleBinding 'mystery-binding' binds ClusterRole 'mystery', which is not in the "
        "plan: what it grants cannot be seen."
    ]


def test_cluster_admin_inside_a_config_group_is_found() -> None:
    crb = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "oops"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-admin",
        },
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
    }
    group = res("kubernetes:yaml/v2:ConfigGroup", "g", {"objs": [crb]})
    assert messages(ADMIN, [group]) == [
        "ConfigGroup 'g' object ClusterRoleBinding/oops: ClusterRoleBinding 'oops' grants "
        "cluster-admin to ServiceAccount:default/default: " + SUFFIX
    ]


def test_allowed_admin_subjects_come_from_the_pack_config() -> None:
    rs = [binding("ClusterRoleBinding", "ClusterRole", "cluster-admin")]
    config = {"allowed_subjects": ["ServiceAccount:team-a/runner"]}
    assert messages(ADMIN, rs, config) == []


def test_namespace_admin_roles_are_fine_in_a_namespace_not_cluster_wide() -> None:
    assert (
        messages(
            ADMIN,
            [
                binding("RoleBinding", "ClusterRole", "admin"),
                binding("RoleBinding", "ClusterRole", "edit"),
            ],
        )
        == []
    )
    assert messages(ADMIN, [binding("ClusterRoleBinding", "ClusterRole", "edit")]) == [
        "ClusterRoleBinding 'edit-binding' grants ClusterRole 'edit' in every namespace to "
        "ServiceAccount:team-a/runner: " + SUFFIX
    ]


def test_aws_auth_mapping_to_system_masters_is_cluster_admin() -> None:
    aws_auth = res(
        "kubernetes:core/v1:ConfigMap",
        "aws-auth",
        {
            "metadata": {"name": "aws-auth", "namespace": "kube-system"},
            "data": {
                "mapRoles": "- rolearn: arn:aws:iam::111122223333:role/anyone\n"
                "  username: anyone\n  groups: [system:masters]\n"
            },
        },
    )
    assert messages(ADMIN, [aws_auth]) == [
        "aws-auth mapRoles puts arn:aws:iam::111122223333:role/anyone in system:masters "
        "(cluster-admin): administrators reach the cluster through its access entries."
    ]
    aws_auth["inputs"]["data"]["mapRoles"] = "[secret]"
    assert messages(ADMIN, [aws_auth]) == [
        unseen("kubernetes:core/v1:ConfigMap 'aws-auth' .data.mapRoles")
    ]
