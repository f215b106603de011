"""Kubernetes workloads: bounded, pinned, unprivileged, read-only, probed containers.

Every pod-bearing kind is checked, wherever it keeps its pods (`k8s`): the core kinds
(Pod, PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
Job, CronJob, their lists and patches), KServe (InferenceService components,
ServingRuntime, ClusterServingRuntime), Argo workflows, and any other kind that carries a
``containers`` list; objects inside yaml ConfigGroup/ConfigFile count like native ones.
Security rules cover init containers as well; probes are required of long-running
workloads only (Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers
and restartable Pods). Parts that are merged into something else (a ``*Patch``, an
InferenceService's model block over its serving runtime) are judged on what they set.

A value the plan does not show (a secret, an unknown) where a setting should be is a
violation saying what could not be seen, never a pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs

from .common import (
    TYPES_READ,
    as_dict,
    as_int,
    as_list,
    config,
    get,
    resource_policy,
    stack_policy,
)
from .images import image_problem
from .k8s import (
    ARGO_GROUP,
    ARGO_WORKFLOWS,
    KSERVE_GROUP,
    YAML_GROUPS,
    Container,
    Object,
    PodSpec,
    expand_group,
    pod_specs,
    workloads,
)
from .network import namespace_of, stack_objects
from .pod_security import (
    DEFAULT_LEVEL,
    LEVELS,
    Pod,
    evaluate,
    kserve_install,
    kserve_pods,
    namespace_levels,
)
from .pod_security import (
    ENFORCE as ENFORCE_LABEL,
)


def missing_resources(resources: Any) -> list[str]:
    """Which of requests/limits cpu/memory a container ``resources`` block lacks."""
    return [
        f"{kind}.{res}"
        for kind in ("requests", "limits")
        for res in ("cpu", "memory")
        if not get(resources, kind, res)
    ]


HIDDEN = "hidden"


def flag(value: Any) -> bool | str | None:
    """A boolean setting: True, False, None (unset) or HIDDEN (anything else)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return HIDDEN


def _pods(args: ResourceValidationArgs, report: ReportViolation) -> Iterator[tuple[str, PodSpec]]:
    """(message prefix, pod spec) of everything the resource runs; what cannot be seen is
    reported first."""
    for obj, pod in workloads(args.resource_type, args.name, args.props):
        prefix = pod.prefix(obj)
        for what in pod.unseen:
            report(f"{prefix}The pack cannot see {what}: it cannot be checked.", None)
        yield prefix, pod


def _context(prefix: str, where: str, value: Any, report: ReportViolation) -> Mapping[str, Any]:
    if value is not None and not isinstance(value, Mapping):
        report(f"{prefix}{where} securityContext cannot be seen ({value!r}).", None)
    return as_dict(value)


def _each(
    args: ResourceValidationArgs, report: ReportViolation, init: bool = True
) -> Iterator[tuple[str, PodSpec, Container, Mapping[str, Any]]]:
    """(prefix, pod, container, its securityContext) of every container."""
    for prefix, pod in _pods(args, report):
        for c in pod.containers:
            if init or not c.init:
                ctx = _context(prefix, c.name, c.spec.get("securityContext"), report)
                yield prefix, pod, c, ctx


def _check_resources(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prefix, _, c, _ in _each(args, report):
        if c.partial:
            continue  # merged over a runtime or an existing workload that has them
        missing = missing_resources(c.spec.get("resources"))
        if missing:
            report(f"{prefix}{c.name} has no {', '.join(missing)}.", None)


def _check_image(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prefix, _, c, _ in _each(args, report):
        image = c.spec.get("image")
        if c.partial and image is None:
            continue  # the runtime's (or existing workload's) image stays
        problem = image_problem(image)
        if problem:
            report(f"{prefix}{c.name} {problem}.", None)


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _check_non_root(args: ResourceValidationArgs, report: ReportViolation) -> None:
    reported: set[int] = set()
    for prefix, pod, c, ctx in _each(args, report):
        if id(pod) not in reported:
            reported.add(id(pod))
            _context(prefix, "The pod's", pod.spec.get("securityContext"), report)
        pod_ctx = as_dict(pod.spec.get("securityContext"))
        merged = c.partial or pod.partial
        # the container's setting wins over the pod's; null means unset
        non_root = flag(_first(ctx.get("runAsNonRoot"), pod_ctx.get("runAsNonRoot")))
        user = _first(ctx.get("runAsUser"), pod_ctx.get("runAsUser"))
        if user is not None and as_int(user) is None:
            report(f"{prefix}{c.name} runs as a user the pack cannot see ({user!r}).", None)
        elif as_int(user) == 0:
            report(f"{prefix}{c.name} runs as UID 0 (runAsUser).", None)
        elif non_root == HIDDEN:
            report(f"{prefix}{c.name} sets runAsNonRoot to a value the pack cannot see.", None)
        elif non_root is False or (non_root is None and not merged):
            report(
                f"{prefix}{c.name} does not set runAsNonRoot (container or pod securityContext).",
                None,
            )


def _check_privileged(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prefix, _, c, ctx in _each(args, report):
        value = flag(ctx.get("privileged"))
        if value is True:
            report(f"{prefix}{c.name} is privileged.", None)
        elif value == HIDDEN:
            report(f"{prefix}{c.name} sets privileged to a value the pack cannot see.", None)


def _check_escalation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prefix, pod, c, ctx in _each(args, report):
        value = flag(ctx.get("allowPrivilegeEscalation"))
        # unset means allowed (Kubernetes default true); a merged part keeps what it merges into
        if value is True or value == HIDDEN or (value is None and not (c.partial or pod.partial)):
            report(f"{prefix}{c.name} does not set allowPrivilegeEscalation: false.", None)


def _check_capabilities(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prefix, pod, c, ctx in _each(args, report):
        caps = ctx.get("capabilities")
        if caps is not None and not isinstance(caps, Mapping):
            report(f"{prefix}{c.name} capabilities cannot be seen ({caps!r}).", None)
            continue
        caps = as_dict(caps)
        drop = [str(d).upper() for d in as_list(caps.get("drop"))]
        add = [
            str(a)
            for a in as_list(caps.get("add"))
            if str(a).upper() not in ("NET_BIND_SERVICE", "CAP_NET_BIND_SERVICE")
        ]
        merged = c.partial or pod.partial
        # a merged part that sets `drop` replaces the list it merges into
        if "ALL" not in drop and (not merged or caps.get("drop") is not None):
            report(f"{prefix}{c.name} does not drop ALL capabilities.", None)
        if add:
            report(f"{prefix}{c.name} adds capabilities {', '.join(add)}.", None)


def _check_host_path(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prefix, pod in _pods(args, report):
        volumes = pod.spec.get("volumes")
        if volumes is not None and (isinstance(volumes, str) or not isinstance(volumes, Sequence)):
            report(f"{prefix}The pod's volumes cannot be seen ({volumes!r}).", None)
            continue
        for volume in as_list(volumes):
            if not isinstance(volume, Mapping):
                report(f"{prefix}A volume cannot be seen ({volume!r}).", None)
            elif volume.get("hostPath") is not None:
                report(
                    f"{prefix}Volume '{volume.get('name')}' mounts the node's "
                    f"{get(volume, 'hostPath', 'path')} (hostPath).",
                    None,
                )


def _check_host_namespaces(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prefix, pod in _pods(args, report):
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            value = flag(pod.spec.get(key))
            if value is True:
                report(f"{prefix}The pod shares the node's namespace ({key}: true).", None)
            elif value == HIDDEN:
                report(f"{prefix}The pod sets {key} to a value the pack cannot see.", None)


def _check_read_only_root(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prefix, pod, c, ctx in _each(args, report):
        value = flag(ctx.get("readOnlyRootFilesystem"))
        if value is False or value == HIDDEN or (value is None and not (c.partial or pod.partial)):
            report(
                f"{prefix}{c.name} has a writable root filesystem "
                "(securityContext.readOnlyRootFilesystem).",
                None,
            )


def _check_probes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prefix, pod in _pods(args, report):
        if not pod.long_running or pod.partial:
            continue
        for c in pod.containers:
            if c.init or c.partial:
                continue
            missing = [p for p in ("livenessProbe", "readinessProbe") if not c.spec.get(p)]
            if missing:
                report(f"{prefix}{c.name} has no {' or '.join(missing)}.", None)


def _check_manifests_visible(args: Any, report: ReportViolation) -> None:
    """yaml ConfigGroup/ConfigFile content the pack cannot read is a violation, unless the
    stack holds the objects as the group's children (a real preview registers them)."""
    parents = {r.parent.urn for r in args.resources if r.parent is not None}
    for group in args.resources:
        if group.resource_type not in YAML_GROUPS:
            continue
        found = expand_group(group.resource_type, group.name, group.props)
        if found.unseen and group.urn not in parents:
            report(
                f"{'; '.join(found.unseen)}: the objects in it cannot be seen, so no rule "
                "checks them (inline them as yaml or objs).",
                group.urn,
            )


HELM_RELEASES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
# KServe kinds that are templates of pods, not pods: judged inside the pods they shape
KSERVE_TEMPLATES = ("ServingRuntime", "ClusterServingRuntime", "ClusterStorageContainer")


def _pod_annotations(obj: Object) -> Mapping[str, Any]:
    if obj.kind == "Pod":
        return as_dict(get(obj.props, "metadata", "annotations"))
    if obj.kind == "CronJob":
        return as_dict(
            get(obj.props, "spec", "jobTemplate", "spec", "template", "metadata", "annotations")
        )
    return as_dict(get(obj.props, "spec", "template", "metadata", "annotations"))


def _admitted_pods(
    obj: Object, install: Any, runtimes: list[Object], storage: list[Mapping[str, Any]]
) -> Iterator[tuple[str, Pod, list[str]]]:
    """(where, pod, what cannot be seen) of every pod admission will judge for ``obj``."""
    if obj.group == KSERVE_GROUP:
        if obj.kind in KSERVE_TEMPLATES:
            return
        if obj.kind == "InferenceService":
            for kp in kserve_pods(obj, install, runtimes, storage):
                yield kp.where, kp.pod, kp.unseen
            return
    argo = obj.group == ARGO_GROUP and obj.kind in ARGO_WORKFLOWS
    for pod in pod_specs(obj):
        unseen = list(pod.unseen)
        if argo:
            unseen.append("the executor containers Argo adds to each pod (not recorded)")
        containers = [(c.name, c.spec) for c in pod.containers]
        yield (
            pod.where,
            Pod(
                pod.spec,
                containers,
                _pod_annotations(obj),
                partial=pod.partial or any(c.partial for c in pod.containers),
            ),
            unseen,
        )


def _check_pod_security(args: Any, report: ReportViolation) -> None:
    default = config(args, "default_level", DEFAULT_LEVEL)
    placed = stack_objects(args)
    levels = namespace_levels(
        [p.obj for p in placed if p.obj.type == "kubernetes:core/v1:Namespace"], default
    )
    install = kserve_install([r.props for r in args.resources if r.resource_type in HELM_RELEASES])
    runtimes = [
        p.obj
        for p in placed
        if p.obj.group == KSERVE_GROUP and p.obj.kind in ("ServingRuntime", "ClusterServingRuntime")
    ]
    storage = [
        *(install.storage_containers() if install else []),
        *(
            {"name": p.obj.name, **as_dict(p.obj.props.get("spec"))}
            for p in placed
            if p.obj.group == KSERVE_GROUP and p.obj.kind == "ClusterStorageContainer"
        ),
    ]
    for p in placed:
        pods = list(_admitted_pods(p.obj, install, runtimes, storage))
        if not pods:
            continue
        ns = namespace_of(p.obj)
        name = f"{p.obj.prefix()}{p.obj.kind} '{p.obj.name}'"
        if ns is None or ns not in levels:
            shown = "cannot be seen" if ns is None else f"'{ns}' is not declared in the plan"
            report(
                f"{name}: its namespace {shown}, so the Pod Security level it enforces "
                "cannot be seen and its pods cannot be judged.",
                p.resource.urn,
            )
            continue
        level = levels[ns]
        if level is None:
            report(
                f"{name}: Namespace '{ns}' sets {ENFORCE_LABEL} to a value the pack cannot "
                f"read (one of {', '.join(LEVELS)}): its pods cannot be judged.",
                p.resource.urn,
            )
            continue
        if level == "privileged":
            continue
        head = f"Namespace '{ns}' enforces {level}: {name}"
        for where, pod, unseen in pods:
            at = f"{head} {where}" if where else head
            for what in unseen:
                report(
                    f"{at}: {what} cannot be seen, so admission cannot be judged.", p.resource.urn
                )
            for f in evaluate(pod, level):
                who = f", {f.container}" if f.container else " (the pod)"
                report(f"{at}{who} violates {f.control}: {f.detail}.", p.resource.urn)


# the pod-bearing kinds of the module docstring, as type tokens (what `resource-type-known`
# counts as read: a kind that is not here is reported, not assumed to be checked)
POD_TYPES = (
    *(f"kubernetes:core/v1:{k}" for k in ("Pod", "PodTemplate", "ReplicationController")),
    *(f"kubernetes:apps/v1:{k}" for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")),
    *(f"kubernetes:batch/v1:{k}" for k in ("Job", "CronJob")),
    "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    *(
        f"kubernetes:serving.kserve.io/v1alpha1:{k}"
        for k in ("ServingRuntime", "ClusterServingRuntime")
    ),
    *(
        f"kubernetes:argoproj.io/v1alpha1:{k}"
        for k in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
    ),
)


def _workload_policy(name: str, description: str, check: Any) -> Any:
    # every Kubernetes type: a pod template may come in any kind (see module docstring)
    def only_kubernetes(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type.startswith("kubernetes:"):
            check(args, report)

    policy = resource_policy(name, description, None, only_kubernetes)
    TYPES_READ[name] = frozenset(POD_TYPES)
    return policy


POLICIES: list[Policy] = [
    _workload_policy(
        "k8s-container-resources",
        "Every container requests and limits cpu and memory.",
        _check_resources,
    ),
    _workload_policy(
        "k8s-image-pinned",
        "Container images are a release tag or digest upstream, or exactly the "
        "tag the image workflow pushes for the platform's own.",
        _check_image,
    ),
    _workload_policy("k8s-run-as-non-root", "Containers run as a non-root user.", _check_non_root),
    _workload_policy("k8s-no-privileged", "Containers are not privileged.", _check_privileged),
    _workload_policy(
        "k8s-no-privilege-escalation",
        "Containers set allowPrivilegeEscalation: false.",
        _check_escalation,
    ),
    _workload_policy(
        "k8s-drop-all-capabilities",
        "Containers drop ALL capabilities and add none but NET_BIND_SERVICE.",
        _check_capabilities,
    ),
    _workload_policy("k8s-no-host-path", "Pods mount no hostPath volumes.", _check_host_path),
    _workload_policy(
        "k8s-no-host-network",
        "Pods do not share the node's network, PID or IPC namespace.",
        _check_host_namespaces,
    ),
    _workload_policy(
        "k8s-read-only-root-filesystem",
        "Containers have a read-only root filesystem.",
        _check_read_only_root,
    ),
    _workload_policy(
        "k8s-probes", "Long-running containers have liveness and readiness probes.", _check_probes
    ),
    stack_policy(
        "k8s-pod-security-admission",
        "Every pod the plan writes, and every pod KServe makes for an InferenceService (its "
        "runtime's containers and those KServe injects), passes the Pod Security level its "
        "namespace enforces.",
        _check_pod_security,
        types=(
            *POD_TYPES,
            "kubernetes:core/v1:Namespace",
            *HELM_RELEASES,
            "kubernetes:serving.kserve.io/v1alpha1:ClusterStorageContainer",
        ),
        schema={
            "default_level": {
                "type": "string",
                "enum": list(LEVELS),
                "default": DEFAULT_LEVEL,
                "description": "The level a namespace without the enforce label gets (the API "
                "server's PodSecurity default; privileged on EKS).",
            }
        },
        remediation="Set the pod's securityContext (runAsNonRoot, seccompProfile "
        "RuntimeDefault) and each container's (allowPrivilegeEscalation: false, "
        "capabilities.drop [ALL]); for KServe's storage-initializer, the chart value "
        "kserve.storage.containerSecurityContext.",
    ),
    stack_policy(
        "k8s-manifests-visible",
        "The objects of yaml ConfigGroups and ConfigFiles are visible to the pack (inline "
        "yaml or objs, or registered as children), so every rule checks them.",
        _check_manifests_visible,
        types=YAML_GROUPS,
        remediation="Pass the manifests as `yaml` (text) or `objs`, not as files or URLs.",
    ),
]
