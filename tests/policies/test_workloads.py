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
        _container(
            image="123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/pipeline-components:0.1.0"
        ),
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
        "DeploymentList": (
            "apps/v1",
            {"items": [{"metadata": meta, "spec": {"template": template}}]},
        ),
        "DeploymentPatch": ("apps/v1", {"spec": {"template": template}}),
        "InferenceService": ("serving.kserve.io/v1beta1", {"spec": {"predictor": spec}}),
        "ServingRuntime": ("serving.kserve.io/v1alpha1", {"spec": spec}),
        "ClusterServingRuntime": ("serving.kserve.io/v1alpha1", {"spec": spec}),
        "Workflow": (
            "argoproj.io/v1alpha1",
            {"spec": {"templates": [{"name": "main", "container": container}]}},
        ),
        "WorkflowTemplate": (
            "argoproj.io/v1alpha1",
            {"spec": {"templates": [{"name": "main", "script": {**container, "source": "echo"}}]}},
        ),
        "CronWorkflow": (
            "argoproj.io/v1alpha1",
            {"spec": {"workflowSpec": {"templates": [{"name": "main", "container": container}]}}},
        ),
        # a kind the pack has never heard of, carrying a pod template
        "Rollout": ("argoproj.io/v1alpha1", {"spec": {"template": template}}),
        "Widget": ("acme.example.com/v1", {"spec": {"runner": {"podSpec": spec}}}),
        # Tekton keeps containers as steps, Argo Events a sensor's as one container
        "Task": ("tekton.dev/v1", {"spec": {"steps": spec["containers"]}}),
        "Sensor": ("argoproj.io/v1alpha1", {"spec": {"template": {"container": container}}}),
    }
    api, body = shapes[kind]
    return res(f"kubernetes:{api}:{kind}", "app", {"metadata": meta, **copy.deepcopy(body)})


POD_BEARING = [
    "ReplicationController",
    "PodTemplate",
    "DeploymentList",
    "DeploymentPatch",
    "InferenceService",
    "ServingRuntime",
    "ClusterServingRuntime",
    "Workflow",
    "WorkflowTemplate",
    "CronWorkflow",
    "Rollout",
    "Widget",
    "Task",
    "Sensor",
]


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
    return res(
        ISVC,
        "churn",
        {"metadata": {"name": "churn", "namespace": "team-risk"}, "spec": {"predictor": predictor}},
    )


def test_inference_service_model_block_is_judged_on_what_it_sets() -> None:
    # merged over its runtime's container: unset settings are the runtime's (checked there)
    model = {
        "modelFormat": {"name": "mlflow"},
        "runtime": "kserve-mlserver",
        "storageUri": "s3://b/m",
    }
    for policy in POLICIES:
        assert messages(policy, [_isvc({"model": model})]) == [], policy
    bad = {
        **model,
        "image": "ghcr.io/acme/server:stable",
        "securityContext": {
            "privileged": True,
            "runAsUser": 0,
            "readOnlyRootFilesystem": False,
            "capabilities": {"add": ["SYS_ADMIN"]},
        },
    }
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
    inputs["inputs"]["spec"]["transformer"] = {
        "containers": [{**copy.deepcopy(CONTAINER), "name": "t", "image": "busybox:latest"}]
    }
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
        "template 'main': The pack cannot see templates[main].podSpecPatch: it cannot be checked.",
        "template 'main': The pod shares the node's namespace (hostNetwork: true).",
    ]


def test_deployment_patch_is_judged_on_what_it_sets() -> None:
    patch = res(
        "kubernetes:apps/v1:DeploymentPatch",
        "p",
        {
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "spec": {
                "template": {"spec": {"containers": [{"name": "coredns", "securityContext": {}}]}}
            },
        },
    )
    for policy in POLICIES:
        assert messages(policy, [patch]) == [], policy
    patch["inputs"]["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {
        "allowPrivilegeEscalation": True
    }
    assert messages("k8s-no-privilege-escalation", [patch]) == [
        "Container 'coredns' does not set allowPrivilegeEscalation: false."
    ]


# ---- values the plan does not show are violations, not passes


@pytest.mark.parametrize(
    ("policy", "spec", "message"),
    [
        (
            "k8s-no-privileged",
            _security(privileged="[secret]"),
            unseen(".spec.template.spec.containers.0.securityContext.privileged"),
        ),
        (
            "k8s-no-host-network",
            _pod(hostNetwork="[unknown]"),
            "The pod sets hostNetwork to a value the pack cannot see.",
        ),
        ("k8s-no-host-path", _pod(volumes="[secret]"), unseen(".spec.template.spec.volumes")),
        (
            "k8s-no-privileged",
            _pod(containers="[secret]"),
            unseen(".spec.template.spec.containers"),
        ),
    ],
)
def test_hidden_settings_are_violations(policy: str, spec: dict[str, Any], message: str) -> None:
    assert messages(policy, [workload("Deployment", spec)]) == [message]


def test_hidden_pod_template_is_a_violation() -> None:
    deployment = workload("Deployment", POD_SPEC)
    deployment["inputs"]["spec"]["template"] = "[secret]"
    assert messages("k8s-no-privileged", [deployment]) == [unseen(".spec.template")]
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
    daemon = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"template": {"spec": PRIVILEGED}},
    }
    group = res(CONFIG_GROUP, "objs", {"objs": [daemon]})
    file = res(
        "kubernetes:yaml/v2:ConfigFile",
        "f",
        {
            "yaml": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n"
            "  metadata: {name: p}\n  spec:\n    containers: [{name: c, image: "
            "'busybox:1.36.1', securityContext: {privileged: true}}]\n"
        },
    )
    assert messages("k8s-no-privileged", [group, file]) == [
        "ConfigFile 'f' object Pod/p: Container 'c' is privileged.",
        "ConfigGroup 'objs' object Deployment/d: Container 'app' is privileged.",
    ]


def test_config_group_of_compliant_objects_passes() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"template": {"spec": POD_SPEC}},
    }
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


# ------------------------------------------------------------------ Pod Security admission
# "k8s-pod-security-admission": each pod judged at the level its namespace enforces

PSA = "k8s-pod-security-admission"
RESTRICTED_POD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [CONTAINER],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}


def namespace(name: str = "team-risk", level: Any = "restricted") -> dict[str, Any]:
    labels = {} if level is None else {"pod-security.kubernetes.io/enforce": level}
    return res("kubernetes:core/v1:Namespace", name, {"metadata": {"name": name, "labels": labels}})


def admitted(
    spec: dict[str, Any], level: Any = "restricted", config: dict[str, Any] | None = None
) -> list[str]:
    return messages(PSA, [namespace(level=level), workload("Deployment", spec)], config)


def test_psa_admits_a_restricted_pod() -> None:
    assert admitted(RESTRICTED_POD) == []


def _psa_container(**ctx: Any) -> dict[str, Any]:
    pod = copy.deepcopy(RESTRICTED_POD)
    for key, value in ctx.items():
        if value is None:
            pod["containers"][0]["securityContext"].pop(key, None)
        else:
            pod["containers"][0]["securityContext"][key] = value
    return pod


def _psa_pod(**fields: Any) -> dict[str, Any]:
    pod = copy.deepcopy(RESTRICTED_POD)
    pod.update(fields)
    return pod


@pytest.mark.parametrize(
    ("spec", "control"),
    [
        (_psa_pod(hostNetwork=True), "Host Namespaces: hostNetwork: true"),
        (_psa_pod(hostPID=True), "Host Namespaces: hostPID: true"),
        (_psa_container(privileged=True), "Privileged Containers: set to true"),
        (
            _psa_container(capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]}),
            "Capabilities: adds SYS_ADMIN (beyond the baseline set)",
        ),
        (
            _psa_pod(volumes=[{"name": "node", "hostPath": {"path": "/var"}}]),
            "HostPath Volumes: volume 'node' mounts /var",
        ),
        (_psa_container(windowsOptions={"hostProcess": True}), "HostProcess: set to true"),
        (
            _psa_container(appArmorProfile={"type": "Unconfined"}),
            "AppArmor: appArmorProfile.type 'Unconfined'",
        ),
        (_psa_container(seLinuxOptions={"type": "spc_t"}), "SELinux: seLinuxOptions.type 'spc_t'"),
        (_psa_container(procMount="Unmasked"), "/proc Mount Type: procMount 'Unmasked'"),
        (
            _psa_container(seccompProfile={"type": "Unconfined"}),
            "Seccomp: seccompProfile.type Unconfined",
        ),
        (
            _psa_pod(
                securityContext={
                    **RESTRICTED_POD["securityContext"],
                    "sysctls": [{"name": "kernel.msgmax", "value": "1"}],
                }
            ),
            "Sysctls: sysctl 'kernel.msgmax' is not in the safe set",
        ),
    ],
)
def test_psa_baseline_controls(spec: dict[str, Any], control: str) -> None:
    found = admitted(spec, "baseline")
    assert any(control in m for m in found), found
    assert all(
        m.startswith("Namespace 'team-risk' enforces baseline: Deployment 'app'") for m in found
    )


def test_psa_host_ports_and_probe_hosts_are_baseline_controls() -> None:
    pod = copy.deepcopy(RESTRICTED_POD)
    pod["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 80}]
    pod["containers"][0]["livenessProbe"] = {
        "httpGet": {"path": "/", "port": 8080, "host": "10.0.0.1"}
    }
    found = admitted(pod, "baseline")
    assert (
        "Namespace 'team-risk' enforces baseline: Deployment 'app', Container 'app' "
        "violates Host Ports: hostPort 80." in found
    )
    assert any("Host Probes / Lifecycle Hooks: host '10.0.0.1'" in m for m in found)


@pytest.mark.parametrize(
    ("spec", "control"),
    [
        (
            _psa_pod(volumes=[{"name": "nfs", "nfs": {"server": "x", "path": "/"}}]),
            "(the pod) violates Volume Types: volume 'nfs' is of type nfs",
        ),
        (
            _psa_container(allowPrivilegeEscalation=None),
            "Container 'app' violates Privilege Escalation: allowPrivilegeEscalation is not false",
        ),
        (
            _psa_pod(securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
            | {
                "containers": [
                    {
                        **CONTAINER,
                        "securityContext": {
                            k: v
                            for k, v in CONTAINER["securityContext"].items()
                            if k != "runAsNonRoot"
                        },
                    }
                ]
            },
            "Container 'app' violates Running as Non-root: runAsNonRoot is not true",
        ),
        (
            _psa_container(runAsUser=0),
            "Container 'app' violates Running as Non-root user: runAsUser: 0",
        ),
        (
            _psa_pod(securityContext={"runAsNonRoot": True}),
            "Container 'app' violates Seccomp: seccompProfile.type is not set",
        ),
        (
            _psa_container(capabilities={"drop": ["NET_RAW"]}),
            "Container 'app' violates Capabilities: capabilities.drop does not include ALL",
        ),
        (
            _psa_container(capabilities={"drop": ["ALL"], "add": ["CHOWN"]}),
            "Container 'app' violates Capabilities: adds CHOWN (only NET_BIND_SERVICE",
        ),
    ],
)
def test_psa_restricted_controls(spec: dict[str, Any], control: str) -> None:
    found = admitted(spec)
    assert any(control in m for m in found), found
    # the same pod is fine where only baseline is enforced
    assert admitted(spec, "baseline") == []


def test_psa_judges_init_containers_too() -> None:
    pod = copy.deepcopy(RESTRICTED_POD)
    pod["securityContext"] = {"runAsNonRoot": True}
    pod["containers"][0]["securityContext"]["seccompProfile"] = {"type": "RuntimeDefault"}
    pod["initContainers"] = [{**CONTAINER, "name": "init"}]
    assert admitted(pod) == [
        "Namespace 'team-risk' enforces restricted: Deployment 'app', Container 'init' "
        "violates Seccomp: seccompProfile.type is not set to RuntimeDefault or Localhost "
        "(container or pod securityContext)."
    ]


def test_psa_level_comes_from_the_namespace_and_fails_closed() -> None:
    bad = _psa_container(privileged=True)
    # no label: the API server's default, privileged on EKS unless configured otherwise
    assert admitted(bad, None) == []
    assert admitted(bad, None, {"default_level": "baseline"}) != []
    assert admitted(bad, "privileged") == []
    # a namespace the plan does not declare cannot be judged
    assert messages(PSA, [workload("Deployment", RESTRICTED_POD)]) == [
        "Deployment 'app': its namespace 'team-risk' is not declared in the plan, so the Pod "
        "Security level it enforces cannot be seen and its pods cannot be judged."
    ]
    assert messages(PSA, [namespace(level="strict"), workload("Deployment", RESTRICTED_POD)]) == [
        "Deployment 'app': Namespace 'team-risk' sets pod-security.kubernetes.io/enforce to a "
        "value the pack cannot read (one of privileged, baseline, restricted): its pods "
        "cannot be judged."
    ]
    assert messages(PSA, [namespace(level="[secret]"), workload("Deployment", bad)]) != []


def test_psa_reads_objects_inside_yaml_groups() -> None:
    daemon = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "team-risk"},
        "spec": {"template": {"spec": _psa_pod(hostNetwork=True)}},
    }
    group = res("kubernetes:yaml/v2:ConfigGroup", "extras", {"objs": [daemon]})
    found = messages(PSA, [namespace(), group])
    assert any(
        "ConfigGroup 'extras' object DaemonSet/agent" in m and "hostNetwork" in m for m in found
    ), found


# -- the pods KServe makes: runtime containers + what its webhook injects (defect 5)

RUNTIME = res(
    "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime",
    "mlserver",
    {
        "metadata": {"name": "kserve-mlserver"},
        "spec": {
            "supportedModelFormats": [{"name": "mlflow", "autoSelect": True}],
            "containers": [
                {
                    **CONTAINER,
                    "name": "kserve-container",
                    "securityContext": {
                        **CONTAINER["securityContext"],
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                }
            ],
        },
    },
)


def kserve_release(
    values: dict[str, Any] | None = None, version: str = "v0.20.0"
) -> dict[str, Any]:
    base = {"kserve": {"version": version, "controller": {"deploymentMode": "Standard"}}}
    return res(
        "kubernetes:helm.sh/v3:Release",
        "kserve",
        {
            "chart": "oci://ghcr.io/kserve/charts/kserve-resources",
            "version": version,
            "namespace": "kserve",
            "values": base if values is None else values,
        },
    )


def isvc(predictor: dict[str, Any] | None = None) -> dict[str, Any]:
    from mlops_runtime.inference_service import render_inference_service

    obj = render_inference_service(
        "scorer", "team-risk", "s3://artifacts/teams/risk/m", "scorer", "3"
    )
    if predictor is not None:
        obj["spec"]["predictor"] = predictor
    return res(
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        "scorer",
        {"metadata": obj["metadata"], "spec": obj["spec"]},
    )


BARE_PREDICTOR = {
    "model": {
        "modelFormat": {"name": "mlflow"},
        "runtime": "kserve-mlserver",
        "storageUri": "s3://artifacts/teams/risk/m",
    }
}
INJECTED = (
    "Namespace 'team-risk' enforces restricted: InferenceService 'scorer' predictor on "
    "ClusterServingRuntime 'kserve-mlserver', Container 'storage-initializer' (injected "
    "by KServe v0.20.0, ClusterStorageContainer 'default') violates Seccomp: "
    "seccompProfile.type is not set to RuntimeDefault or Localhost (container or pod "
    "securityContext)."
)


def test_psa_refuses_the_storage_initializer_kserve_injects_without_seccomp() -> None:
    # chart defaults (v0.20.0 values.yaml): no seccompProfile on the storage-initializer
    assert messages(PSA, [namespace(), RUNTIME, kserve_release(), isvc(BARE_PREDICTOR)]) == [
        INJECTED
    ]


def test_psa_admits_the_platform_template_under_the_chart_defaults() -> None:
    # the template's pod securityContext covers the injected container (defect 5)
    assert messages(PSA, [namespace(), RUNTIME, kserve_release(), isvc()]) == []


def test_psa_admits_the_injected_container_given_the_chart_value() -> None:
    values = {
        "kserve": {
            "controller": {"deploymentMode": "Standard"},
            "storage": {"containerSecurityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
        }
    }
    assert messages(PSA, [namespace(), RUNTIME, kserve_release(values), isvc(BARE_PREDICTOR)]) == []


def test_psa_kserve_fails_closed() -> None:
    no_release = messages(PSA, [namespace(), RUNTIME, isvc()])
    assert any("the plan installs no kserve-resources release" in m for m in no_release)
    unknown = messages(PSA, [namespace(), RUNTIME, kserve_release(version="v0.99.0"), isvc()])
    assert any("there is no record of what KServe 'v0.99.0' injects" in m for m in unknown)
    # no mode annotation and no chart value: the chart's default, Knative (queue-proxy)
    serverless = isvc()
    del serverless["inputs"]["metadata"]["annotations"]["serving.kserve.io/deploymentMode"]
    knative = messages(PSA, [namespace(), RUNTIME, kserve_release({}), serverless])
    assert any("deployment mode 'Knative'" in m for m in knative), knative
    no_runtime = messages(PSA, [namespace(), kserve_release(), isvc()])
    assert any("the serving runtime of predictor.model" in m for m in no_runtime)


def test_psa_kserve_agent_copies_the_first_container() -> None:
    runtime = copy.deepcopy(RUNTIME)
    del runtime["inputs"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"]
    found = messages(
        PSA,
        [
            namespace(),
            runtime,
            kserve_release(),
            isvc({**isvc()["inputs"]["spec"]["predictor"], "logger": {"mode": "all"}}),
        ],
    )
    assert any(
        "Container 'agent' (injected by KServe v0.20.0) violates Privilege Escalation" in m
        for m in found
    ), found
    assert any("Container 'kserve-container' violates Privilege Escalation" in m for m in found), (
        found
    )
