"""Kubernetes workloads: bounded, pinned, unprivileged, read-only, probed containers.

The pod spec is found where each kind keeps it (``spec`` of a Pod,
``spec.template.spec`` of Deployments, StatefulSets, DaemonSets, ReplicaSets and Jobs,
``spec.jobTemplate.spec.template.spec`` of CronJobs). Security rules cover init
containers as well; probes are required of long-running workloads only (not Jobs,
CronJobs or run-to-completion Pods).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs

from .common import as_dict, as_list, get, is_true, resource_policy
from .images import image_problem

POD = "kubernetes:core/v1:Pod"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
WORKLOADS = (POD, DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET, JOB, CRON_JOB)
LONG_RUNNING = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET)


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod spec of a workload's inputs ({} when absent)."""
    if resource_type == POD:
        return as_dict(props.get("spec"))
    if resource_type == CRON_JOB:
        return as_dict(get(props, "spec", "jobTemplate", "spec", "template", "spec"))
    return as_dict(get(props, "spec", "template", "spec"))


def containers(spec: Mapping[str, Any], init: bool = True) -> Iterator[Mapping[str, Any]]:
    """Containers (and init containers) of a pod spec."""
    keys = ("initContainers", "containers") if init else ("containers",)
    for key in keys:
        for c in as_list(spec.get(key)):
            if isinstance(c, Mapping):
                yield c


def _name(c: Mapping[str, Any]) -> str:
    return f"Container '{c.get('name', '?')}'"


def missing_resources(resources: Any) -> list[str]:
    """Which of requests/limits cpu/memory a container ``resources`` block lacks."""
    return [f"{kind}.{res}" for kind in ("requests", "limits") for res in ("cpu", "memory")
            if not get(resources, kind, res)]


def _each_container(args: ResourceValidationArgs, init: bool = True) -> Iterator[
        tuple[Mapping[str, Any], Mapping[str, Any]]]:
    spec = pod_spec(args.resource_type, args.props)
    for c in containers(spec, init):
        yield spec, c


def _check_resources(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for _, c in _each_container(args):
        missing = missing_resources(c.get("resources"))
        if missing:
            report(f"{_name(c)} has no {', '.join(missing)}.", None)


def _check_image(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for _, c in _each_container(args):
        problem = image_problem(c.get("image"))
        if problem:
            report(f"{_name(c)} {problem}.", None)


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _check_non_root(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for spec, c in _each_container(args):
        pod_ctx = as_dict(spec.get("securityContext"))
        ctx = as_dict(c.get("securityContext"))
        # the container's setting wins over the pod's; null means unset
        non_root = _first(ctx.get("runAsNonRoot"), pod_ctx.get("runAsNonRoot"))
        user = _first(ctx.get("runAsUser"), pod_ctx.get("runAsUser"))
        if user == 0:
            report(f"{_name(c)} runs as UID 0 (runAsUser).", None)
        elif not is_true(non_root):
            report(f"{_name(c)} does not set runAsNonRoot (container or pod securityContext).",
                   None)


def _check_privileged(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for _, c in _each_container(args):
        if is_true(get(c, "securityContext", "privileged")):
            report(f"{_name(c)} is privileged.", None)


def _check_escalation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for _, c in _each_container(args):
        # unset means allowed (Kubernetes default true)
        if get(c, "securityContext", "allowPrivilegeEscalation") is not False:
            report(f"{_name(c)} does not set allowPrivilegeEscalation: false.", None)


def _check_capabilities(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for _, c in _each_container(args):
        drop = [str(d).upper() for d in as_list(get(c, "securityContext", "capabilities", "drop"))]
        add = [str(a) for a in as_list(get(c, "securityContext", "capabilities", "add"))
               if str(a).upper() != "NET_BIND_SERVICE"]
        if "ALL" not in drop:
            report(f"{_name(c)} does not drop ALL capabilities.", None)
        if add:
            report(f"{_name(c)} adds capabilities {', '.join(add)}.", None)


def _check_host_path(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    for volume in as_list(spec.get("volumes")):
        if get(volume, "hostPath") is not None:
            report(f"Volume '{get(volume, 'name')}' mounts the node's "
                   f"{get(volume, 'hostPath', 'path')} (hostPath).", None)


def _check_host_namespaces(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if is_true(spec.get(key)):
            report(f"The pod shares the node's namespace ({key}: true).", None)


def _check_read_only_root(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for _, c in _each_container(args):
        if not is_true(get(c, "securityContext", "readOnlyRootFilesystem")):
            report(f"{_name(c)} has a writable root filesystem "
                   "(securityContext.readOnlyRootFilesystem).", None)


def _check_probes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == POD:
        policy = get(args.props, "spec", "restartPolicy")
        if policy in ("Never", "OnFailure"):
            return  # a run-to-completion pod
    elif args.resource_type not in LONG_RUNNING:
        return
    for _, c in _each_container(args, init=False):
        missing = [p for p in ("livenessProbe", "readinessProbe") if not c.get(p)]
        if missing:
            report(f"{_name(c)} has no {' or '.join(missing)}.", None)


def _workload_policy(name: str, description: str, check: Any) -> Any:
    return resource_policy(name, description, WORKLOADS, check)


POLICIES: list[Policy] = [
    _workload_policy("k8s-container-resources",
                     "Every container requests and limits cpu and memory.", _check_resources),
    _workload_policy("k8s-image-pinned",
                     "Container images are a release tag or digest upstream, or exactly the "
                     "tag the image workflow pushes for the platform's own.",
                     _check_image),
    _workload_policy("k8s-run-as-non-root", "Containers run as a non-root user.",
                     _check_non_root),
    _workload_policy("k8s-no-privileged", "Containers are not privileged.", _check_privileged),
    _workload_policy("k8s-no-privilege-escalation",
                     "Containers set allowPrivilegeEscalation: false.", _check_escalation),
    _workload_policy("k8s-drop-all-capabilities",
                     "Containers drop ALL capabilities and add none but NET_BIND_SERVICE.",
                     _check_capabilities),
    _workload_policy("k8s-no-host-path", "Pods mount no hostPath volumes.", _check_host_path),
    _workload_policy("k8s-no-host-network",
                     "Pods do not share the node's network, PID or IPC namespace.",
                     _check_host_namespaces),
    _workload_policy("k8s-read-only-root-filesystem",
                     "Containers have a read-only root filesystem.", _check_read_only_root),
    _workload_policy("k8s-probes",
                     "Long-running containers have liveness and readiness probes.",
                     _check_probes),
]
