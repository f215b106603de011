"""Workload rules over every kind that carries a pod spec."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from harness import messages, res, unseen

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONTAINER: dict[str, Any] = {
    "name": "app",
    "image": "ghcr.io/acme/app:1.4.2",
    "resources": {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    },
    "securityContext": {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    },
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
}
POD_SPEC: dict[str, Any] = {"containers": [CONTAINER], "volumes": [{"name": "tmp", "emptyDir": {}}]}
POLICIES = [
    "k8s-container-resources",
    "k8s-image-pinned",
    "k8s-run-as-non-root",
    "k8s-no-privileged",
    "k8s-no-privilege-escalation",
    "k8s-drop-all-capabilities",
    "k8s-no-host-path",
    "k8s-no-host-network",
    "k8s-read-only-root-filesystem",
    "k8s-probes",
]


def workload(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The inputs of ``kind`` holding pod ``spec`` where that kind keeps it."""
    meta = {"name": "app", "namespace": "team-risk"}
    template = {"metadata": {"labels": {"app": "app"}}, "spec": spec}
    if kind == "Pod":
        return res("kubernetes:core/v1:Pod", "app", {"metadata": meta, "spec": spec})
    if kind == "CronJob":
        return res(
            "kubernetes:batch/v1:CronJob",
            "app",
            {
                "metadata": meta,
                "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}},
            },
        )
    group = "batch/v1" if kind == "Job" else "apps/v1"
    return res(
        f"kubernetes:{group}:{kind}", "app", {"metadata": meta, "spec": {"template": template}}
    )


KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("policy", POLICIES)
def test_workload_rules_pass_a_restricted_pod(policy: str, kind: str) -> None:
    assert messages(policy, [workload(kind, POD_SPEC)]) == []


def _container(**change: Any) -> dict[str, Any]:
    spec = copy.deepcopy(POD_SPEC)
    spec["containers"][0].update(change)
    return spec


def _security(**change: Any) -> dict[str, Any]:
    spec = copy.deepcopy(POD_SPEC)
    spec["containers"][0]["securityContext"].update(change)
    return spec


def _pod(**change: Any) -> dict[str, Any]:
    return {**copy.deepcopy(POD_SPEC), **change}


FAILING = [
    (
        "k8s-container-resources",
        _container(resources={"requests": {"cpu": "1", "memory": "1Gi"}}),
        "Container 'app' has no limits.cpu, limits.memory.",
    ),
    (
        "k8s-container-resources",
        _container(resources="[secret]"),
        unseen(".spec.template.spec.containers.0.resources"),
    ),
    (
        "k8s-image-pinned",
        _container(image="ghcr.io/acme/app:latest"),
        "Container 'app' image 'ghcr.io/acme/app:latest' uses the 'latest' tag.",
    ),
    (
        "k8s-image-pinned",
        _container(image="localhost:5000/acme/app"),
        "Container 'app' image 'localhost:5000/acme/app' has no tag.",
    ),
    (
        "k8s-image-pinned",
        _container(image="docker.io/library/busybox:stable"),
        "Container 'app' image 'docker.io/library/busybox:stable' has the floating tag 'stable' "
        "(pin a release or a digest).",
    ),
    (
        "k8s-image-pinned",
        _container(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/pipeline-components:0.1.0"),
        "Container 'app' image '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/"
        "pipeline-components:0.1.0' is the platform's own, but '0.1.0' is not a tag the image "
        "workflow pushes (the full commit SHA).",
    ),
    (
        "k8s-run-as-non-root",
        _security(runAsNonRoot=None),
        "Container 'app' does not set runAsNonRoot (container or pod securityContext).",
    ),
    ("k8s-run-as-non-root", _security(runAsUser=0), "Container 'app' runs as UID 0 (runAsUser)."),
    ("k8s-no-privileged", _security(privileged=True), "Container 'app' is privileged."),
    (
        "k8s-no-privilege-escalation",
        _security(allowPrivilegeEscalation=None),
        "Container 'app' does not set allowPrivilegeEscalation: false.",
    ),
    (
        "k8s-drop-all-capabilities",
        _security(capabilities={"drop": ["NET_RAW"]}),
        "Container 'app' does not drop ALL capabilities.",
    ),
    (
        "k8s-drop-all-capabilities",
        _security(capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]}),
        "Container 'app' adds capabilities SYS_ADMIN.",
    ),
    (
        "k8s-no-host-path",
        _pod(volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}]),
        "Volume 'docker' mounts the node's /var/run (hostPath).",
    ),
    (
        "k8s-no-host-network",
        _pod(hostNetwork=True),
        "The pod shares the node's namespace (hostNetwork: true).",
    ),
    (
        "k8s-no-host-network",
        _pod(hostPID=True),
        "The pod shares the node's namespace (hostPID: true).",
    ),
    (
        "k8s-read-only-root-filesystem",
        _security(readOnlyRootFilesystem=False),
        "Container 'app' has a writable root filesystem (securityContext.readOnlyRootFilesystem).",
    ),
    ("k8s-probes", _container(livenessProbe=None), "Container 'app' has no livenessProbe."),
    (
        "k8s-probes",
        _container(livenessProbe=None, readinessProbe=None),
        "Container 'app' has no livenessProbe or readinessProbe.",
    ),
]


@pytest.mark.parametrize(("policy", "spec", "message"), FAILING)
def test_workload_rules_fail_on_a_deployment(
    policy: str, spec: dict[str, Any], message: str
) -> None:
    assert messages(policy, [workload("Deployment", spec)]) == [message]


@pytest.mark.parametrize("kind", ["StatefulSet", "CronJob", "Pod"])
def test_workload_rules_find_the_pod_spec_of_every_kind(kind: str) -> None:
    assert messages("k8s-no-privileged", [workload(kind, _security(privileged=True))]) == [
        "Container 'app' is privileged."
    ]


def test_init_containers_are_checked() -> None:
    spec = copy.deepcopy(POD_SPEC)
    spec["initContainers"] = [{**copy.deepcopy(CONTAINER), "name": "init", "image": "busybox"}]
    assert messages("k8s-image-pinned", [workload("Deployment", spec)]) == [
        "Container 'init' image 'busybox' has no tag."
    ]


def test_pod_level_run_as_non_root_counts() -> None:
    spec = _security(runAsNonRoot=None)
    spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 10001}
    assert messages("k8s-run-as-non-root", [workload("Deployment", spec)]) == []


def test_probes_are_not_required_of_jobs_and_finite_pods() -> None:
    spec = _container(livenessProbe=None, readinessProbe=None)
    assert messages("k8s-probes", [workload("Job", spec), workload("CronJob", spec)]) == []
    assert messages("k8s-probes", [workload("Pod", {**spec, "restartPolicy": "Never"})]) == []


def test_image_pinned_by_digest_passes() -> None:
    spec = _container(image="ghcr.io/acme/app@sha256:" + "a" * 64)
    assert messages("k8s-image-pinned", [workload("Deployment", spec)]) == []
