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


# ---- every pod-bearing kind is checked, not only the seven core ones

PRIVILEGED = _security(privileged=True)


def _pod_bearing(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """``kind`` with pod ``spec`` where the Kubernetes, KServe or Argo API keeps it."""
    meta = {"name": "app", "namespace": "team-risk"}
    template = {"metadata": {"labels": {"app": "app"}}, "spec": spec}
    container = spec["containers"][0]
    shapes: dict[str, tuple[str, dict[str, Any]]] = {
        "ReplicationController": ("core/v1", {"spec": {"template": template}}),
        "PodTemplate": ("core/v1", {"template": template}),
        "DeploymentList": ("apps/v1", {"items": [{"metadata": meta,
                                                  "spec": {"template": template}}]}),
        "DeploymentPatch": ("apps/v1", {"spec": {"template": template}}),
        "InferenceService": ("serving.kserve.io/v1beta1", {"spec": {"predictor": spec}}),
        "ServingRuntime": ("serving.kserve.io/v1alpha1", {"spec": spec}),
        "ClusterServingRuntime": ("serving.kserve.io/v1alpha1", {"spec": spec}),
        "Workflow": ("argoproj.io/v1alpha1", {"spec": {"templates": [
            {"name": "main", "container": container}]}}),
        "WorkflowTemplate": ("argoproj.io/v1alpha1", {"spec": {"templates": [
            {"name": "main", "script": {**container, "source": "echo"}}]}}),
        "CronWorkflow": ("argoproj.io/v1alpha1", {"spec": {"workflowSpec": {"templates": [
            {"name": "main", "container": container}]}}}),
        # a kind the pack has never heard of, carrying a pod template
        "Rollout": ("argoproj.io/v1alpha1", {"spec": {"template": template}}),
        "Widget": ("acme.example.com/v1", {"spec": {"runner": {"podSpec": spec}}}),
        # Tekton keeps containers as steps, Argo Events a sensor's as one container
        "Task": ("tekton.dev/v1", {"spec": {"steps": spec["containers"]}}),
        "Sensor": ("argoproj.io/v1alpha1", {"spec": {"template": {"container": container}}}),
    }
    api, body = shapes[kind]
    return res(f"kubernetes:{api}:{kind}", "app", {"metadata": meta, **copy.deepcopy(body)})


POD_BEARING = ["ReplicationController", "PodTemplate", "DeploymentList", "DeploymentPatch",
               "InferenceService", "ServingRuntime", "ClusterServingRuntime", "Workflow",
               "WorkflowTemplate", "CronWorkflow", "Rollout", "Widget", "Task", "Sensor"]


@pytest.mark.parametrize("kind", POD_BEARING)
def test_privileged_container_in_every_pod_bearing_kind(kind: str) -> None:
    found = messages("k8s-no-privileged", [_pod_bearing(kind, PRIVILEGED)])
    assert len(found) == 1 and found[0].endswith("is privileged."), found


@pytest.mark.parametrize("kind", POD_BEARING)
@pytest.mark.parametrize("policy", POLICIES)
def test_every_pod_bearing_kind_passes_a_restricted_pod(policy: str, kind: str) -> None:
    assert messages(policy, [_pod_bearing(kind, POD_SPEC)]) == []


@pytest.mark.parametrize("kind", ["ReplicationController", "ServingRuntime", "InferenceService"])
def test_host_path_and_moving_tag_in_replication_controller_and_kserve(kind: str) -> None:
    spec = _pod(volumes=[{"name": "root", "hostPath": {"path": "/"}}])
    spec["containers"][0]["image"] = "docker.io/library/nginx:main"
    assert len(messages("k8s-no-host-path", [_pod_bearing(kind, spec)])) == 1
    assert messages("k8s-image-pinned", [_pod_bearing(kind, spec)])[0].endswith(
        "image 'docker.io/library/nginx:main' has the floating tag 'main' (pin a release or a "
        "digest)."
    )


def test_replication_controller_needs_probes_like_a_deployment() -> None:
    spec = _container(livenessProbe=None, readinessProbe=None)
    assert messages("k8s-probes", [_pod_bearing("ReplicationController", spec)]) == [
        "Container 'app' has no livenessProbe or readinessProbe."
    ]


ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def _isvc(predictor: dict[str, Any]) -> dict[str, Any]:
    return res(ISVC, "churn", {"metadata": {"name": "churn", "namespace": "team-risk"},
                               "spec": {"predictor": predictor}})


def test_inference_service_model_block_is_judged_on_what_it_sets() -> None:
    # merged over its runtime's container: unset settings are the runtime's (checked there)
    model = {"modelFormat": {"name": "mlflow"}, "runtime": "kserve-mlserver",
             "storageUri": "s3://b/m"}
    for policy in POLICIES:
        assert messages(policy, [_isvc({"model": model})]) == [], policy
    bad = {**model, "image": "ghcr.io/acme/server:stable",
           "securityContext": {"privileged": True, "runAsUser": 0,
                               "readOnlyRootFilesystem": False,
                               "capabilities": {"add": ["SYS_ADMIN"]}}}
    assert messages("k8s-no-privileged", [_isvc({"model": bad})]) == [
        "predictor: The model block is privileged."
    ]
    assert messages("k8s-image-pinned", [_isvc({"model": bad})]) == [
        "predictor: The model block image 'ghcr.io/acme/server:stable' has the floating tag "
        "'stable' (pin a release or a digest)."
    ]
    assert messages("k8s-run-as-non-root", [_isvc({"model": bad})]) == [
        "predictor: The model block runs as UID 0 (runAsUser)."
    ]
    assert messages("k8s-drop-all-capabilities", [_isvc({"model": bad})]) == [
        "predictor: The model block adds capabilities SYS_ADMIN."
    ]
    assert len(messages("k8s-read-only-root-filesystem", [_isvc({"model": bad})])) == 1


def test_inference_service_transformer_and_explainer_containers_are_checked() -> None:
    inputs = _isvc({"containers": [CONTAINER]})
    inputs["inputs"]["spec"]["transformer"] = {"containers": [
        {**copy.deepcopy(CONTAINER), "name": "t", "image": "busybox:latest"}]}
    inputs["inputs"]["spec"]["explainer"] = {"hostNetwork": True, "containers": [CONTAINER]}
    assert messages("k8s-image-pinned", [inputs]) == [
        "transformer: Container 't' image 'busybox:latest' uses the 'latest' tag."
    ]
    assert messages("k8s-no-host-network", [inputs]) == [
        "explainer: The pod shares the node's namespace (hostNetwork: true)."
    ]


def test_argo_workflow_pod_level_settings_and_pod_spec_patch() -> None:
    wf = _pod_bearing("Workflow", POD_SPEC)
    wf["inputs"]["spec"]["hostNetwork"] = True
    wf["inputs"]["spec"]["templates"][0]["podSpecPatch"] = '{"hostPID": true}'
    found = messages("k8s-no-host-network", [wf])
    assert found == [
        "template 'main': The pack cannot see templates[main].podSpecPatch: it cannot be "
        "checked.",
        "template 'main': The pod shares the node's namespace (hostNetwork: true).",
    ]


def test_deployment_patch_is_judged_on_what_it_sets() -> None:
    patch = res("kubernetes:apps/v1:DeploymentPatch", "p", {
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "spec": {"template": {"spec": {"containers": [{"name": "coredns",
                                                       "securityContext": {}}]}}}})
    for policy in POLICIES:
        assert messages(policy, [patch]) == [], policy
    patch["inputs"]["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {
        "allowPrivilegeEscalation": True}
    assert messages("k8s-no-privilege-escalation", [patch]) == [
        "Container 'coredns' does not set allowPrivilegeEscalation: false."
    ]


# ---- values the plan does not show are violations, not passes


@pytest.mark.parametrize(
    ("policy", "spec", "message"),
    [
        ("k8s-no-privileged", _security(privileged="[secret]"),
         unseen(".spec.template.spec.containers.0.securityContext.privileged")),
        ("k8s-no-host-network", _pod(hostNetwork="[unknown]"),
         "The pod sets hostNetwork to a value the pack cannot see."),
        ("k8s-no-host-path", _pod(volumes="[secret]"),
         unseen(".spec.template.spec.volumes")),
        ("k8s-no-privileged", _pod(containers="[secret]"),
         unseen(".spec.template.spec.containers")),
    ],
)
def test_hidden_settings_are_violations(policy: str, spec: dict[str, Any], message: str) -> None:
    assert messages(policy, [workload("Deployment", spec)]) == [message]


def test_hidden_pod_template_is_a_violation() -> None:
    deployment = workload("Deployment", POD_SPEC)
    deployment["inputs"]["spec"]["template"] = "[secret]"
    assert messages("k8s-no-privileged", [deployment]) == [
        unseen(".spec.template")
    ]
    widget = _pod_bearing("Widget", POD_SPEC)
    widget["inputs"]["spec"]["runner"]["podSpec"] = "[secret]"
    assert messages("k8s-no-privileged", [widget]) == [unseen(".spec.runner.podSpec")]


# ---- yaml ConfigGroup / ConfigFile objects are checked like native ones

CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
PRIVILEGED_YAML = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: harmless}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: miner, namespace: kube-system}
spec:
  template:
    spec:
      hostNetwork: true
      containers:
      - name: miner
        image: docker.io/evil/miner:main
        securityContext: {privileged: true}
"""


def test_config_group_yaml_is_expanded_and_checked() -> None:
    group = res(CONFIG_GROUP, "extras", {"yaml": [PRIVILEGED_YAML]})
    prefix = "ConfigGroup 'extras' object DaemonSet/miner: "
    assert messages("k8s-no-privileged", [group]) == [f"{prefix}Container 'miner' is privileged."]
    assert messages("k8s-no-host-network", [group]) == [
        f"{prefix}The pod shares the node's namespace (hostNetwork: true)."
    ]
    assert messages("k8s-image-pinned", [group]) == [
        f"{prefix}Container 'miner' image 'docker.io/evil/miner:main' has the floating tag 'main' "
        "(pin a release or a digest)."
    ]


def test_config_group_objs_and_config_file_yaml_are_expanded() -> None:
    daemon = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
              "spec": {"template": {"spec": PRIVILEGED}}}
    group = res(CONFIG_GROUP, "objs", {"objs": [daemon]})
    file = res("kubernetes:yaml/v2:ConfigFile", "f",
               {"yaml": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n"
                        "  metadata: {name: p}\n  spec:\n    containers: [{name: c, image: "
                        "'busybox:1.36.1', securityContext: {privileged: true}}]\n"})
    assert messages("k8s-no-privileged", [group, file]) == [
        "ConfigFile 'f' object Pod/p: Container 'c' is privileged.",
        "ConfigGroup 'objs' object Deployment/d: Container 'app' is privileged.",
    ]


def test_config_group_of_compliant_objects_passes() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                  "spec": {"template": {"spec": POD_SPEC}}}
    group = res(CONFIG_GROUP, "ok", {"objs": [deployment]})
    for policy in [*POLICIES, "k8s-manifests-visible"]:
        assert messages(policy, [group]) == [], policy


def test_config_group_files_are_not_visible_to_the_pack() -> None:
    group = res(CONFIG_GROUP, "files", {"files": ["manifests/*.yaml"]})
    assert messages("k8s-manifests-visible", [group]) == [
        "ConfigGroup 'files': file 'manifests/*.yaml': the objects in it cannot be seen, so no "
        "rule checks them (inline them as yaml or objs)."
    ]
    # a real preview registers the objects as the group's children: those are checked
    child = res("kubernetes:apps/v1:Deployment", "child", {}, parent=group)
    assert messages("k8s-manifests-visible", [group, child]) == []


def test_config_group_secret_or_broken_yaml_is_not_visible() -> None:
    hidden = res(CONFIG_GROUP, "hidden", {"yaml": "[secret]"})
    broken = res(CONFIG_GROUP, "broken", {"yaml": "kind: [unclosed"})
    [found] = messages("k8s-manifests-visible", [broken])
    assert found.startswith("ConfigGroup 'broken': yaml that does not parse")
    assert messages("k8s-manifests-visible", [hidden]) == [
        unseen("kubernetes:yaml/v2:ConfigGroup 'hidden' .yaml")
    ]
