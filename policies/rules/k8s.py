"""Kubernetes objects as the pack sees them, and the pod specs they carry.

**Objects.** A native resource (``kubernetes:<group>/<version>:<Kind>``, custom resources
included) is one object. A ``yaml/v2`` ``ConfigGroup`` or ``ConfigFile`` (and the v1
components, when they carry inline objects) is a bag of objects the provider creates at
deploy time; under the offline plan they never become resources of their own, so the
pack expands their inline ``yaml`` and ``objs`` and checks every object inside like a
native one. Objects read from ``files`` are the provider's to read; whether the pack saw
them is `k8s-manifests-visible`'s question (`unseen_content`).

**Pod specs.** Every kind that makes pods is read where it keeps them:

* Pod (``spec``), PodTemplate (``template.spec``); Deployment, StatefulSet, DaemonSet,
  ReplicaSet, ReplicationController, Job (``spec.template.spec``); CronJob
  (``spec.jobTemplate.spec.template.spec``); their ``*List`` (each item) and ``*Patch``
  kinds (a patch changes what it sets, so only what it sets is judged);
* KServe: InferenceService ``predictor``, ``transformer``, ``explainer`` (each a pod spec
  of its own, with ``containers`` and a framework/``model`` block that the serving
  runtime's container is merged with, so only what it sets is judged), and their
  ``workerSpec``; ServingRuntime and ClusterServingRuntime ``spec`` (and ``workerSpec``);
* Argo Workflow, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow: each
  template's ``container``, ``script``, ``initContainers``, ``sidecars`` and
  ``containerSet``, with the workflow's pod-level settings;
* any other kind: every mapping holding containers, wherever it sits (a ``containers``
  list; Tekton's ``steps`` and ``sidecars``; a ``container`` or ``script`` with an
  image). An unknown kind that carries a pod template is therefore checked, not skipped.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from .common import SECRET, as_dict, as_list, get

YAML_GROUPS = (
    "kubernetes:yaml/v2:ConfigGroup",
    "kubernetes:yaml/v2:ConfigFile",
    "kubernetes:yaml:ConfigGroup",
    "kubernetes:yaml:ConfigFile",
)
UNKNOWN = "[unknown]"
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController")
TEMPLATED = (*LONG_RUNNING, "Job")
KSERVE_GROUP = "serving.kserve.io"
KSERVE_COMPONENTS = ("predictor", "transformer", "explainer")
# framework keys of a v1beta1 component (`model` and the older per-framework spelling)
KSERVE_FRAMEWORKS = (
    "model",
    "sklearn",
    "xgboost",
    "lightgbm",
    "tensorflow",
    "pytorch",
    "onnx",
    "triton",
    "pmml",
    "paddle",
    "huggingface",
)
ARGO_GROUP = "argoproj.io"
ARGO_WORKFLOWS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
# pod-level fields a workflow sets for all its pods (templates may override some)
ARGO_POD_FIELDS = ("securityContext", "hostNetwork", "volumes", "automountServiceAccountToken")


@dataclass(frozen=True)
class Object:
    """One Kubernetes object: its type token, its fields, and where it came from."""

    type: str
    props: Mapping[str, Any]
    source: str = ""  # "" for a native resource; "ConfigGroup 'x' object Deployment/y" else

    @property
    def api_version(self) -> str:
        """``<group>/<version>`` (``core/v1`` for the core group)."""
        return self.type.split(":", 2)[1] if self.type.count(":") >= 2 else ""

    @property
    def group(self) -> str:
        api = self.api_version
        return api.rsplit("/", 1)[0] if "/" in api else ""

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def name(self) -> Any:
        return get(self.props, "metadata", "name")

    @property
    def namespace(self) -> Any:
        return get(self.props, "metadata", "namespace")

    def prefix(self) -> str:
        """What a message about this object starts with ("" for a native resource)."""
        return f"{self.source}: " if self.source else ""


def type_token(api_version: Any, kind: Any) -> str | None:
    """The Pulumi type token of an object (``kubernetes:apps/v1:Deployment``)."""
    if not isinstance(api_version, str) or not isinstance(kind, str) or not kind:
        return None
    api = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{api}:{kind}"


@dataclass
class Expansion:
    objects: list[Object] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)  # content the pack could not read


def _group_label(resource_type: str, name: str) -> str:
    return f"{resource_type.rsplit(':', 1)[-1]} '{name}'"


def _add(out: Expansion, doc: Any, where: str) -> None:
    if not isinstance(doc, Mapping):
        out.unseen.append(f"{where}: an entry that is not an object")
        return
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        for item in as_list(doc.get("items")):
            _add(out, item, where)
        return
    token = type_token(doc.get("apiVersion"), kind)
    if token is None:
        out.unseen.append(f"{where}: an object without apiVersion and kind")
        return
    meta = as_dict(doc.get("metadata"))
    out.objects.append(Object(token, doc, f"{where} object {kind}/{meta.get('name', '?')}"))


def expand_group(resource_type: str, name: str, props: Mapping[str, Any]) -> Expansion:
    """The objects inside a yaml ConfigGroup/ConfigFile's inline ``yaml`` and ``objs``;
    files and unreadable values are listed as unseen."""
    out = Expansion()
    where = _group_label(resource_type, name)
    for text in as_list(props.get("yaml")):
        if not isinstance(text, str) or text in (SECRET, UNKNOWN):
            out.unseen.append(f"{where}: yaml {text!r}")
            continue
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            out.unseen.append(f"{where}: yaml that does not parse ({str(exc).splitlines()[0]})")
            continue
        for doc in docs:
            if doc is not None:
                _add(out, doc, where)
    objs = props.get("objs")
    for obj in [objs] if isinstance(objs, Mapping) else as_list(objs):
        _add(out, obj, where)
    files = props.get("files") if "files" in props else props.get("file")
    for f in as_list(files):
        out.unseen.append(f"{where}: file {f!r}")
    return out


_CACHE: OrderedDict[int, tuple[Any, Any]] = OrderedDict()
_CACHE_SIZE = 2048


def _cached(kind: str, props: Any, compute: Any) -> Any:
    """Rules ask the same questions of the same props (the offline runner hands every rule
    one props object per resource): answer once. Keyed by identity, with the props kept
    alive so an id is never reused while cached."""
    key = hash((kind, id(props)))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is props:
        _CACHE.move_to_end(key)
        return hit[1]
    value = compute()
    _CACHE[key] = (props, value)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return value


def objects(resource_type: str, name: str, props: Mapping[str, Any]) -> list[Object]:
    """The Kubernetes objects a resource stands for ([] for anything else)."""
    if resource_type in YAML_GROUPS:
        return list(
            _cached(
                f"group:{resource_type}:{name}",
                props,
                lambda: expand_group(resource_type, name, props),
            ).objects
        )
    if (
        resource_type.startswith("kubernetes:")
        and resource_type.count(":") == 2
        and not (resource_type.startswith(("kubernetes:helm.sh/", "kubernetes:kustomize")))
    ):
        return [Object(resource_type, props)]
    return []


# ------------------------------------------------------------------ pod specs


@dataclass(frozen=True)
class Container:
    spec: Mapping[str, Any]
    init: bool = False
    partial: bool = False  # merged into something else: only what it sets is judged
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or f"Container '{self.spec.get('name', '?')}'"


@dataclass(frozen=True)
class PodSpec:
    spec: Mapping[str, Any]  # pod-level fields
    containers: tuple[Container, ...]
    where: str = ""  # "" for the one pod spec of a workload; else e.g. "predictor"
    long_running: bool = False
    partial: bool = False  # a patch: only what it sets is judged
    unseen: tuple[str, ...] = ()

    def prefix(self, obj: Object) -> str:
        parts = [p for p in (obj.source, self.where) if p]
        return f"{' '.join(parts)}: " if parts else ""


def hidden(value: Any) -> bool:
    """A value the plan does not show (a secret, an unknown during preview)."""
    return isinstance(value, str) and value in (SECRET, UNKNOWN)


def reach(value: Any, *path: str) -> tuple[Any, str | None]:
    """The value at ``path``, and the first step that is not an object when the path
    runs into something else (a secret, an unknown, a string): what cannot be seen."""
    current = value
    walked: list[str] = []
    for step in path:
        if current is None:
            return None, None
        if not isinstance(current, Mapping):
            return None, ".".join(walked) or "the object"
        walked.append(step)
        current = current.get(step)
    return current, None


def _containers(spec: Mapping[str, Any], partial: bool) -> tuple[list[Container], list[str]]:
    out: list[Container] = []
    unseen: list[str] = []
    for key in ("initContainers", "containers"):
        value = spec.get(key)
        if value is None:
            continue
        if isinstance(value, str) or not isinstance(value, Sequence):
            unseen.append(f"{key} ({value!r})")
            continue
        for c in value:
            if isinstance(c, Mapping):
                out.append(Container(c, init=key == "initContainers", partial=partial))
            else:
                unseen.append(f"an entry of {key} ({c!r})")
    return out, unseen


def _pod(
    value: Any,
    *,
    where: str = "",
    long_running: bool = False,
    partial: bool = False,
    missing: str | None = None,
) -> PodSpec:
    unseen = [f"the pod spec under {missing}"] if missing else []
    if value is not None and not isinstance(value, Mapping):
        unseen.append(f"the pod spec ({value!r})")
    spec = as_dict(value)
    containers, more = _containers(spec, partial)
    return PodSpec(spec, tuple(containers), where, long_running, partial, tuple(unseen + more))


def _core_pods(kind: str, props: Mapping[str, Any], partial: bool) -> list[PodSpec] | None:
    if kind == "Pod":
        finite = get(props, "spec", "restartPolicy") in ("Never", "OnFailure")
        return [_pod(props.get("spec"), long_running=not finite, partial=partial)]
    if kind == "PodTemplate":
        spec, missing = reach(props, "template", "spec")
        return [_pod(spec, partial=partial, missing=missing)]
    if kind in TEMPLATED:
        spec, missing = reach(props, "spec", "template", "spec")
        return [_pod(spec, long_running=kind in LONG_RUNNING, partial=partial, missing=missing)]
    if kind == "CronJob":
        spec, missing = reach(props, "spec", "jobTemplate", "spec", "template", "spec")
        return [_pod(spec, partial=partial, missing=missing)]
    return None


def _kserve_pods(kind: str, props: Mapping[str, Any]) -> list[PodSpec] | None:
    spec = props.get("spec")
    if kind not in ("InferenceService", "ServingRuntime", "ClusterServingRuntime"):
        return None
    if spec is not None and not isinstance(spec, Mapping):
        return [_pod(spec)]
    spec = as_dict(spec)
    if kind != "InferenceService":
        out = [_pod(spec)]
        if spec.get("workerSpec") is not None:
            out.append(_pod(spec["workerSpec"], where="workerSpec"))
        return out
    out = []
    for component in KSERVE_COMPONENTS:
        block = spec.get(component)
        if block is None:
            continue
        if not isinstance(block, Mapping):
            out.append(_pod(block, where=component))
            continue
        pod = _pod(block, where=component)
        containers = list(pod.containers)
        unseen = list(pod.unseen)
        for key in KSERVE_FRAMEWORKS:
            model = block.get(key)
            if isinstance(model, Mapping):
                containers.append(Container(model, partial=True, label=f"The {key} block"))
            elif model is not None:
                unseen.append(f"{component}.{key} ({model!r})")
        out.append(PodSpec(block, tuple(containers), component, unseen=tuple(unseen)))
        if block.get("workerSpec") is not None:
            out.append(_pod(block["workerSpec"], where=f"{component}.workerSpec"))
    return out


def _argo_pods(kind: str, props: Mapping[str, Any]) -> list[PodSpec] | None:
    if kind not in ARGO_WORKFLOWS:
        return None
    spec = as_dict(props.get("spec"))
    if kind == "CronWorkflow":
        spec = as_dict(spec.get("workflowSpec"))
    shared = {k: spec[k] for k in ARGO_POD_FIELDS if k in spec}
    unseen = ["spec.podSpecPatch"] if spec.get("podSpecPatch") else []
    out = []
    for i, template in enumerate(as_list(spec.get("templates"))):
        template = as_dict(template)
        name = template.get("name", i)
        containers = []
        for key in ("container", "script"):
            if isinstance(template.get(key), Mapping):
                containers.append(Container(template[key], label=f"The {key}"))
        for key in ("initContainers", "sidecars"):
            for c in as_list(template.get(key)):
                if isinstance(c, Mapping):
                    containers.append(Container(c, init=key == "initContainers"))
        for c in as_list(get(template, "containerSet", "containers")):
            if isinstance(c, Mapping):
                containers.append(Container(c))
        pod = dict(shared)
        if isinstance(template.get("securityContext"), Mapping):
            pod["securityContext"] = template["securityContext"]
        pod["volumes"] = [*as_list(shared.get("volumes")), *as_list(template.get("volumes"))]
        own = [f"templates[{name}].podSpecPatch"] if template.get("podSpecPatch") else []
        if containers or own:
            out.append(
                PodSpec(pod, tuple(containers), f"template '{name}'", unseen=tuple(unseen + own))
            )
    if not out and unseen:
        out.append(PodSpec(shared, (), "", unseen=tuple(unseen)))
    return out


# keys under which an unknown kind may keep a pod template: hidden there, it is unseen
POD_KEYS = (
    "spec",
    "template",
    "podSpec",
    "podTemplate",
    "jobTemplate",
    "containers",
    "initContainers",
    "workflowSpec",
    "templates",
    "workerSpec",
    "steps",
    "sidecars",
    "container",
)
# container lists other APIs use besides `containers` (Tekton steps, sidecars), and
# single-container keys (Argo Events sensors, Argo-like templates)
CONTAINER_LISTS = ("containers", "initContainers", "sidecars", "steps")
CONTAINER_KEYS = ("container", "script")


def _is_container(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("image"), str)


def _generic_pods(value: Any, path: str = "") -> Iterator[PodSpec]:
    """Every mapping that holds containers (a ``containers``, ``steps`` or ``sidecars``
    list, a ``container`` or ``script`` with an image), anywhere under ``value``; a
    pod-template key whose value is hidden is reported as unseen."""
    if isinstance(value, Mapping):
        found: list[Container] = []
        for key in CONTAINER_LISTS:
            items = value.get(key)
            if isinstance(items, Sequence) and not isinstance(items, str):
                found += [
                    Container(c, init=key == "initContainers")
                    for c in items
                    if isinstance(c, Mapping)
                    and (key in ("containers", "initContainers") or _is_container(c))
                ]
        for key in CONTAINER_KEYS:
            if _is_container(value.get(key)):
                found.append(Container(value[key], label=f"The {key}"))
        if found:
            pod = _pod(value, where=path or "spec")
            yield PodSpec(pod.spec, tuple(found), pod.where, unseen=pod.unseen)
            return
        for key, child in value.items():
            if key == "metadata":
                continue
            where = f"{path}.{key}" if path else str(key)
            if key in POD_KEYS and hidden(child):
                yield PodSpec({}, (), where, unseen=(f"{where} ({child!r})",))
            else:
                yield from _generic_pods(child, where)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for i, child in enumerate(value):
            yield from _generic_pods(child, f"{path}[{i}]")


# Kubernetes' own API groups: their kinds have fixed schemas (the API server drops unknown
# fields), so a built-in kind that is not pod-bearing carries no pods to search for.
BUILTIN_GROUPS = (
    "",
    "core",
    "apps",
    "batch",
    "extensions",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "policy",
    "autoscaling",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "node.k8s.io",
    "certificates.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "events.k8s.io",
    "resource.k8s.io",
)


def _pods_of(obj: Object) -> list[PodSpec]:
    kind, props = obj.kind, obj.props
    partial = kind.endswith("Patch")
    base = kind.removesuffix("Patch")
    if base.endswith("List") and base != "List":
        item_kind = base.removesuffix("List")
        out = []
        for item in as_list(props.get("items")):
            if isinstance(item, Mapping):
                out += _pods_of(
                    Object(obj.type.rsplit(":", 1)[0] + ":" + item_kind, item, obj.source)
                )
        return out
    if obj.group in ("", "core", "apps", "batch", "extensions"):
        found = _core_pods(base, props, partial)
        if found is not None:
            return found
    if obj.group in BUILTIN_GROUPS:
        return []
    if obj.group == KSERVE_GROUP:
        found = _kserve_pods(kind, props)
        if found is not None:
            return found
    if obj.group == ARGO_GROUP:
        found = _argo_pods(kind, props)
        if found is not None:
            return found
    return list(_generic_pods({k: v for k, v in props.items() if k != "metadata"}))


def pod_specs(obj: Object) -> list[PodSpec]:
    """The pod specs ``obj`` carries (see module docstring); [] for kinds without pods."""
    return list(_cached(f"pods:{obj.type}:{obj.source}", obj.props, lambda: _pods_of(obj)))


def workloads(
    resource_type: str, name: str, props: Mapping[str, Any]
) -> Iterator[tuple[Object, PodSpec]]:
    """(object, pod spec) of everything a resource runs."""
    for obj in objects(resource_type, name, props):
        for pod in pod_specs(obj):
            yield obj, pod


# ------------------------------------------------------------------ selectors


def selects(selector: Any, labels: Any) -> bool | None:
    """Whether a label selector (matchLabels / matchExpressions, or a plain map as a
    Service uses) selects ``labels``; None when the selector cannot be read."""
    if selector is None:
        return None
    if not isinstance(selector, Mapping):
        return None
    labels = as_dict(labels)
    if "matchLabels" in selector or "matchExpressions" in selector:
        match = selector.get("matchLabels")
        if match is not None and not isinstance(match, Mapping):
            return None
        for key, value in as_dict(match).items():
            if labels.get(key) != value:
                return False
        for expr in as_list(selector.get("matchExpressions")):
            expr = as_dict(expr)
            key, op = expr.get("key"), expr.get("operator")
            values = [str(v) for v in as_list(expr.get("values"))]
            if op == "In" and labels.get(key) not in values:
                return False
            if op == "NotIn" and key in labels and labels.get(key) in values:
                return False
            if op == "Exists" and key not in labels:
                return False
            if op == "DoesNotExist" and key in labels:
                return False
            if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
                return None
        return True
    return all(labels.get(k) == v for k, v in selector.items())


def pod_labels(obj: Object) -> Mapping[str, Any]:
    """Labels of the pods a workload object makes ({} when it makes none it declares)."""
    kind, props = obj.kind, obj.props
    if kind == "Pod":
        return as_dict(get(props, "metadata", "labels"))
    if kind == "CronJob":
        return as_dict(get(props, "spec", "jobTemplate", "spec", "template", "metadata", "labels"))
    return as_dict(get(props, "spec", "template", "metadata", "labels"))
