"""Serving: KServe InferenceServices are sized, replicated, traceable and read the artifact store.

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
    PolicyResource,
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
from .storage import BUCKETS, is_access_log_bucket
from .workloads import missing_resources

INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
ANNOTATION_MODEL = "mlops.platform/registered-model"
ANNOTATION_VERSION = "mlops.platform/model-version"
ARTIFACT_TAG = ("purpose", "ml-artifacts")
ARTIFACT_STORE_COMPONENT = "mlops:storage:ArtifactStore"
# Framework keys of the v1beta1 predictor (older spelling of `model:`).
FRAMEWORKS = ("model", "sklearn", "xgboost", "lightgbm", "tensorflow", "pytorch", "onnx",
              "triton", "pmml", "paddle", "huggingface")
COMPONENTS = ("predictor", "transformer", "explainer")
DEFAULT_MIN_REPLICAS = 2


def serving_containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, container-like block) of every component of an InferenceService spec."""
    for component in COMPONENTS:
        block = as_dict(spec.get(component))
        for key in FRAMEWORKS:
            if isinstance(block.get(key), Mapping):
                yield f"{component}.{key}", block[key]
        for c in as_list(block.get("containers")):
            if isinstance(c, Mapping):
                yield f"{component} container '{c.get('name', '?')}'", c


def storage_uris(spec: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, storageUri) of the predictor's model(s)."""
    predictor = as_dict(spec.get("predictor"))
    out = []
    for key in FRAMEWORKS:
        uri = get(predictor, key, "storageUri")
        if uri is not None:
            out.append((f"predictor.{key}", uri))
    for c in as_list(predictor.get("containers")):
        for env in as_list(get(c, "env")):
            if get(env, "name") == "STORAGE_URI":
                out.append((f"predictor container '{get(c, 'name')}'", get(env, "value")))
    return out


def _name(args: ResourceValidationArgs | PolicyResource) -> str:
    meta = as_dict(args.props.get("metadata"))
    return str(meta.get("name") or args.name)


def _check_resources(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = as_dict(args.props.get("spec"))
    found = False
    for label, block in serving_containers(spec):
        found = True
        missing = missing_resources(block.get("resources"))
        if missing:
            report(f"{label} has no {', '.join(missing)}.", None)
    if not found:
        report("The InferenceService has no predictor model or container.", None)


def _check_min_replicas(args: ResourceValidationArgs, report: ReportViolation) -> None:
    minimum = int(config(args, "minimum", DEFAULT_MIN_REPLICAS))
    value = get(args.props, "spec", "predictor", "minReplicas")
    replicas = as_int(value)
    # KServe's default is 1 (0 in serverless mode)
    effective = 1 if value is None else replicas
    if effective is None or effective < minimum:
        shown = "unset (1)" if value is None else (replicas if replicas is not None else value)
        report(f"predictor.minReplicas is {shown}; "
               f"at least {minimum} required.", None)


def _check_model_annotations(args: ResourceValidationArgs, report: ReportViolation) -> None:
    annotations = as_dict(get(args.props, "metadata", "annotations"))
    if not str(annotations.get(ANNOTATION_MODEL) or "").strip():
        report(f"No '{ANNOTATION_MODEL}' annotation naming the MLflow registered model.", None)
    version = annotations.get(ANNOTATION_VERSION)
    number = as_int(version)
    if number is None or number < 1:
        report(f"Annotation '{ANNOTATION_VERSION}' must be the registered model version "
               f"(a positive integer), got {version!r}.", None)


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
        in_store = (parent is not None and parent.resource_type == ARTIFACT_STORE_COMPONENT
                    and not is_access_log_bucket(bucket))
        if tagged or in_store:
            found.add(name)
    return found


def _check_storage_uri(args: StackValidationArgs, report: ReportViolation) -> None:
    services = resources_of(args, INFERENCE_SERVICE)
    if not services:
        return
    allowed = artifact_buckets(args)
    for isvc in services:
        uris = storage_uris(as_dict(isvc.props.get("spec")))
        if not uris:
            report(f"InferenceService '{_name(isvc)}' names no storageUri.", isvc.urn)
        for label, uri in uris:
            text = str(uri)
            bucket = text[len("s3://"):].split("/", 1)[0] if text.startswith("s3://") else None
            if bucket is None:
                report(f"InferenceService '{_name(isvc)}' {label}.storageUri '{text}' is not "
                       "an s3:// URI in the artifact bucket.", isvc.urn)
            elif not allowed:
                report(f"InferenceService '{_name(isvc)}' reads s3://{bucket} but no artifact "
                       "bucket is known (set the policy's artifact_buckets or tag the bucket "
                       "purpose=ml-artifacts).", isvc.urn)
            elif bucket not in allowed:
                report(f"InferenceService '{_name(isvc)}' reads s3://{bucket}, outside the "
                       f"artifact bucket ({', '.join(sorted(allowed))}).", isvc.urn)


POLICIES: list[Policy] = [
    resource_policy(
        "kserve-resources",
        "InferenceService predictors (and transformers, explainers) request and limit cpu "
        "and memory.",
        (INFERENCE_SERVICE,), _check_resources),
    resource_policy(
        "kserve-min-replicas",
        "InferenceService predictors keep enough replicas (2 in prod).",
        (INFERENCE_SERVICE,), _check_min_replicas,
        schema={"minimum": {"type": "integer", "minimum": 1, "default": DEFAULT_MIN_REPLICAS}}),
    resource_policy(
        "kserve-model-version-annotation",
        f"InferenceServices name the MLflow registered model ('{ANNOTATION_MODEL}') and "
        f"version ('{ANNOTATION_VERSION}') they serve.",
        (INFERENCE_SERVICE,), _check_model_annotations),
    stack_policy(
        "kserve-storage-uri-in-artifact-bucket",
        "InferenceServices load models only from the artifact bucket.",
        _check_storage_uri,
        schema={"artifact_buckets": {
            "type": "array", "items": {"type": "string"},
            "description": "Allowed bucket names; default: the stack's artifact bucket."}}),
]
