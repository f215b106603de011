"""Serving: KServe InferenceServices are sized, replicated, traceable, read the artifact
store and run on runtimes the pack checked; MLflow servers authenticate.

InferenceServices are read wherever they are declared: native resources and objects in
yaml ConfigGroups/ConfigFiles (`k8s.objects`).

Model provenance annotations (the names
``mlops_runtime.inference_service.render_inference_service`` writes):

* ``mlops.platform/registered-model``: the MLflow registered model name;
* ``mlops.platform/model-version``: its registered version (a positive integer).

``storageUri`` must be an ``s3://`` URI inside the artifact bucket. The bucket is the
pack config ``artifact_buckets`` when set; otherwise every bucket of the stack tagged
``purpose: ml-artifacts`` or created by the blueprint's ``mlops:storage:ArtifactStore``
component (except its access-log bucket). That needs the whole stack, so that rule is a
stack policy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from .common import (
    as_dict,
    as_int,
    as_list,
    config,
    get,
    resource_policy,
    resources_of,
    stack_policy,
)
from .k8s import (
    KSERVE_COMPONENTS,
    KSERVE_FRAMEWORKS,
    KSERVE_GROUP,
    Object,
    hidden,
    objects,
    pod_labels,
    pod_specs,
)
from .network import (
    DEFAULT_AUTH_APPS,
    Placed,
    ingress_policies_for,
    mlflow_auth_app,
    mlflow_server,
    stack_objects,
)
from .storage import BUCKETS, is_access_log_bucket
from .workloads import missing_resources

INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
ANNOTATION_MODEL = "mlops.platform/registered-model"
ANNOTATION_VERSION = "mlops.platform/model-version"
ARTIFACT_TAG = ("purpose", "ml-artifacts")
ARTIFACT_STORE_COMPONENT = "mlops:storage:ArtifactStore"
DEFAULT_MIN_REPLICAS = 2


def serving_containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, container-like block) of every component of an InferenceService spec."""
    for component in KSERVE_COMPONENTS:
        block = as_dict(spec.get(component))
        for key in KSERVE_FRAMEWORKS:
            if isinstance(block.get(key), Mapping):
                yield f"{component}.{key}", block[key]
        for c in as_list(block.get("containers")):
            if isinstance(c, Mapping):
                yield f"{component} container '{c.get('name', '?')}'", c


def storage_uris(spec: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, storageUri) of the predictor's model(s)."""
    predictor = as_dict(spec.get("predictor"))
    out = []
    for key in KSERVE_FRAMEWORKS:
        uri = get(predictor, key, "storageUri")
        if uri is not None:
            out.append((f"predictor.{key}", uri))
    for c in as_list(predictor.get("containers")):
        for env in as_list(get(c, "env")):
            if get(env, "name") == "STORAGE_URI":
                out.append((f"predictor container '{get(c, 'name')}'", get(env, "value")))
    return out


def _isvcs(args: ResourceValidationArgs) -> list[Object]:
    return [
        o
        for o in objects(args.resource_type, args.name, args.props)
        if o.kind == "InferenceService" and o.group == KSERVE_GROUP
    ]


def _check_resources(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for obj in _isvcs(args):
        spec = as_dict(obj.props.get("spec"))
        found = False
        for label, block in serving_containers(spec):
            found = True
            missing = missing_resources(block.get("resources"))
            if missing:
                report(f"{obj.prefix()}{label} has no {', '.join(missing)}.", None)
        if not found:
            report(f"{obj.prefix()}The InferenceService has no predictor model or container.", None)


def _check_min_replicas(args: ResourceValidationArgs, report: ReportViolation) -> None:
    minimum = int(config(args, "minimum", DEFAULT_MIN_REPLICAS))
    for obj in _isvcs(args):
        value = get(obj.props, "spec", "predictor", "minReplicas")
        replicas = as_int(value)
        # KServe's default is 1 (0 in serverless mode)
        effective = 1 if value is None else replicas
        if effective is None or effective < minimum:
            shown = "unset (1)" if value is None else (replicas if replicas is not None else value)
            report(
                f"{obj.prefix()}predictor.minReplicas is {shown}; at least {minimum} required.",
                None,
            )


def _check_model_annotations(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for obj in _isvcs(args):
        annotations = as_dict(get(obj.props, "metadata", "annotations"))
        if not str(annotations.get(ANNOTATION_MODEL) or "").strip():
            report(
                f"{obj.prefix()}No '{ANNOTATION_MODEL}' annotation naming the MLflow "
                "registered model.",
                None,
            )
        version = annotations.get(ANNOTATION_VERSION)
        number = as_int(version)
        if number is None or number < 1:
            report(
                f"{obj.prefix()}Annotation '{ANNOTATION_VERSION}' must be the registered "
                f"model version (a positive integer), got {version!r}.",
                None,
            )


def _isvc_name(p: Placed) -> str:
    name = p.obj.name
    return str(name) if name is not None else p.resource.name


def artifact_buckets(args: StackValidationArgs) -> set[str]:
    """Names of the buckets serving may read models from (see module docstring)."""
    configured = config(args, "artifact_buckets", None)
    if configured:
        return {str(b) for b in as_list(configured)}
    found = set()
    key, value = ARTIFACT_TAG
    for bucket in resources_of(args, *BUCKETS):
        name = bucket.props.get("bucket")
        if not isinstance(name, str):
            continue
        tagged = as_dict(bucket.props.get("tags")).get(key) == value
        parent = bucket.parent
        in_store = (
            parent is not None
            and parent.resource_type == ARTIFACT_STORE_COMPONENT
            and not is_access_log_bucket(args, bucket)
        )
        if tagged or in_store:
            found.add(name)
    return found


def _check_storage_uri(args: StackValidationArgs, report: ReportViolation) -> None:
    services = [
        p
        for p in stack_objects(args)
        if p.obj.kind == "InferenceService" and p.obj.group == KSERVE_GROUP
    ]
    if not services:
        return
    allowed = artifact_buckets(args)
    for p in services:
        name = f"{p.obj.prefix()}InferenceService '{_isvc_name(p)}'"
        uris = storage_uris(as_dict(p.obj.props.get("spec")))
        if not uris:
            report(f"{name} names no storageUri.", p.resource.urn)
        for label, uri in uris:
            text = str(uri)
            bucket = text[len("s3://") :].split("/", 1)[0] if text.startswith("s3://") else None
            if bucket is None:
                report(
                    f"{name} {label}.storageUri '{text}' is not an s3:// URI in the artifact "
                    "bucket.",
                    p.resource.urn,
                )
            elif not allowed:
                report(
                    f"{name} reads s3://{bucket} but no artifact bucket is known (set the "
                    "policy's artifact_buckets or tag the bucket purpose=ml-artifacts).",
                    p.resource.urn,
                )
            elif bucket not in allowed:
                report(
                    f"{name} reads s3://{bucket}, outside the artifact bucket "
                    f"({', '.join(sorted(allowed))}).",
                    p.resource.urn,
                )


def _check_runtime_known(args: StackValidationArgs, report: ReportViolation) -> None:
    """A model block's container is merged over its serving runtime's: the runtime must be
    one the pack checked, so it must be named and be in the plan."""
    placed = stack_objects(args)
    runtimes = {
        (p.namespace, p.obj.name)
        for p in placed
        if p.obj.kind == "ServingRuntime" and p.obj.group == KSERVE_GROUP
    }
    cluster_runtimes = {
        p.obj.name
        for p in placed
        if p.obj.kind == "ClusterServingRuntime" and p.obj.group == KSERVE_GROUP
    }
    for p in placed:
        if p.obj.kind != "InferenceService" or p.obj.group != KSERVE_GROUP:
            continue
        name = f"{p.obj.prefix()}InferenceService '{_isvc_name(p)}'"
        spec = as_dict(p.obj.props.get("spec"))
        for component in KSERVE_COMPONENTS:
            block = as_dict(spec.get(component))
            for key in KSERVE_FRAMEWORKS:
                model = block.get(key)
                if not isinstance(model, Mapping):
                    continue
                runtime = model.get("runtime")
                where = f"{component}.{key}"
                if runtime is None:
                    report(
                        f"{name} {where} names no runtime: KServe would pick one by model "
                        "format, possibly one outside the plan that no rule checked.",
                        p.resource.urn,
                    )
                elif not isinstance(runtime, str) or hidden(runtime):
                    report(f"{name} {where}.runtime cannot be seen ({runtime!r}).", p.resource.urn)
                elif (p.namespace, runtime) not in runtimes and runtime not in cluster_runtimes:
                    report(
                        f"{name} {where} runs on '{runtime}', a runtime that is not in the "
                        "plan: its containers were not checked.",
                        p.resource.urn,
                    )


def _check_mlflow_auth(args: StackValidationArgs, report: ReportViolation) -> None:
    apps = [str(a) for a in as_list(config(args, "auth_apps", DEFAULT_AUTH_APPS))]
    placed = stack_objects(args)
    for p in placed:
        for pod in pod_specs(p.obj):
            servers = [c for c in pod.containers if not c.init and mlflow_server(c.spec)]
            if not servers or all(mlflow_auth_app(c.spec, apps) for c in servers):
                continue
            name = f"{pod.prefix(p.obj)}{p.obj.kind} '{p.obj.name}'"
            for problem in _unauthenticated_reach(placed, p):
                report(
                    f"{name} runs MLflow without its auth app (--app-name "
                    f"{' or '.join(apps)}) and {problem}.",
                    p.resource.urn,
                )


def _unauthenticated_reach(placed: list[Placed], p: Placed) -> list[str]:
    """How an MLflow server without auth can be reached from outside the pods its
    namespace names: NetworkPolicies must isolate it and admit in-cluster peers only."""
    if p.namespace is None:
        return ["its namespace cannot be seen, so neither can the policies isolating it"]
    selecting, unseen = ingress_policies_for(placed, p.namespace, pod_labels(p.obj))
    problems = [f"{u} cannot be read" for u in unseen]
    if not selecting:
        problems.append(
            "no NetworkPolicy isolates it: any pod, and any load balancer, "
            "reaches it unauthenticated"
        )
    for policy in selecting:
        label = f"NetworkPolicy '{policy.obj.name}'"
        for rule in as_list(get(policy.obj.props, "spec", "ingress")):
            peers = get(rule, "from")
            if not as_list(peers):
                problems.append(f"{label} admits traffic from anywhere")
            for peer in as_list(peers):
                peer = as_dict(peer)
                if peer.get("ipBlock") is not None:
                    cidr = get(peer, "ipBlock", "cidr")
                    problems.append(
                        f"{label} admits {cidr} (addresses outside the cluster's "
                        "pods: a load balancer, the VPC)"
                    )
                elif (
                    "namespaceSelector" in peer
                    and not as_dict(peer.get("namespaceSelector"))
                    and "podSelector" not in peer
                ):
                    problems.append(f"{label} admits every namespace")
                elif not peer:
                    problems.append(f"{label} has a peer the pack cannot read")
    return problems


POLICIES: list[Policy] = [
    resource_policy(
        "kserve-resources",
        "InferenceService predictors (and transformers, explainers) request and limit cpu "
        "and memory.",
        None,
        _check_resources,
    ),
    resource_policy(
        "kserve-min-replicas",
        "InferenceService predictors keep enough replicas (2 in prod).",
        None,
        _check_min_replicas,
        schema={"minimum": {"type": "integer", "minimum": 1, "default": DEFAULT_MIN_REPLICAS}},
    ),
    resource_policy(
        "kserve-model-version-annotation",
        f"InferenceServices name the MLflow registered model ('{ANNOTATION_MODEL}') and "
        f"version ('{ANNOTATION_VERSION}') they serve.",
        None,
        _check_model_annotations,
    ),
    stack_policy(
        "kserve-storage-uri-in-artifact-bucket",
        "InferenceServices load models only from the artifact bucket.",
        _check_storage_uri,
        schema={
            "artifact_buckets": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Allowed bucket names; default: the stack's artifact bucket.",
            }
        },
    ),
    stack_policy(
        "kserve-runtime-known",
        "InferenceService models name a ServingRuntime or ClusterServingRuntime of the plan, "
        "whose containers the workload rules checked.",
        _check_runtime_known,
        remediation="Set the model's runtime to a runtime the stack defines.",
    ),
    stack_policy(
        "mlflow-auth-required",
        "MLflow servers run their auth app, or NetworkPolicies admit only named in-cluster "
        "peers (such as the OIDC proxy) to them, never a load balancer or an address range.",
        _check_mlflow_auth,
        schema={
            "auth_apps": {
                "type": "array",
                "items": {"type": "string"},
                "default": DEFAULT_AUTH_APPS,
                "description": "MLflow --app-name values that authenticate.",
            }
        },
        remediation="Start MLflow with --app-name basic-auth, or put oauth2-proxy in front "
        "and isolate the server with a NetworkPolicy.",
    ),
]
