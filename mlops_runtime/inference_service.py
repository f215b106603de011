"""The one KServe InferenceService template of the platform.

The deployment step of the sample pipelines and the in-cluster Pulumi component both
render through `render_inference_service`, so what a data scientist deploys locally is
what the cluster runs: KServe v0.20 `serving.kserve.io/v1beta1`, the MLflow model format
served by the MLServer runtime over the Open Inference Protocol (v2), Standard (raw
Kubernetes Deployment) mode, the model read from the artifact store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

API_VERSION = "serving.kserve.io/v1beta1"
KIND = "InferenceService"
RUNTIME = "kserve-mlserver"
PROTOCOL = "v2"
MODEL_FORMAT = "mlflow"
# KServe v0.20 names raw Deployment mode "Standard" ("RawDeployment" before it); Standard
# needs no Knative, which is why the platform defaults to it.
DEPLOYMENT_MODE = "Standard"

ANNOTATION_MODEL_NAME = "mlops.platform/registered-model"
ANNOTATION_MODEL_VERSION = "mlops.platform/model-version"
ANNOTATION_DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"

# Pod Security `restricted` (what team namespaces enforce) admits a pod only with a seccomp
# profile and non-root for every container. KServe copies these pod fields of the predictor
# onto the pod it makes, so they cover the containers its webhook injects (the
# storage-initializer) as well as the runtime's; the images run as a numeric non-root USER.
POD_SECURITY_CONTEXT: Mapping[str, Any] = {
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}

DEFAULT_RESOURCES: Mapping[str, Mapping[str, str]] = {
    "requests": {"cpu": "100m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}


def render_inference_service(
    name: str,
    namespace: str,
    storage_uri: str,
    model_name: str,
    model_version: str,
    min_replicas: int = 1,
    resources: Mapping[str, Mapping[str, str]] | None = None,
    *,
    max_replicas: int | None = None,
    service_account: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Render the InferenceService serving one registered model version.

    Args:
        name: Kubernetes name of the InferenceService (DNS-1035 label).
        namespace: Team namespace it runs in.
        storage_uri: Where the model's MLflow directory lives, e.g.
            ``s3://<bucket>/mlflow/<experiment>/models/<model_id>/artifacts``.
        model_name: Registered model name in MLflow, recorded as an annotation.
        model_version: Registered model version, recorded as an annotation and a label.
        min_replicas: Lowest replica count (0 is refused: Standard mode cannot scale to zero).
        resources: Container requests/limits; secure small defaults when None.
        max_replicas: Highest replica count; default `min_replicas`.
        service_account: Service account with read access to the artifact store (IRSA).
        labels: Extra labels.
        annotations: Extra annotations (cannot override the model annotations).

    Returns:
        The InferenceService as a plain dict, ready for YAML or a Pulumi CustomResource.

    Raises:
        ValueError: On an empty name, namespace or storage URI, or bad replica counts.
    """
    for field, value in (
        ("name", name),
        ("namespace", namespace),
        ("storage_uri", storage_uri),
        ("model_name", model_name),
        ("model_version", model_version),
    ):
        if not str(value).strip():
            raise ValueError(f"{field} must not be empty")
    if min_replicas < 1:
        raise ValueError("min_replicas must be >= 1: Standard mode cannot scale to zero")
    max_r = min_replicas if max_replicas is None else max_replicas
    if max_r < min_replicas:
        raise ValueError("max_replicas must be >= min_replicas")

    model: dict[str, Any] = {
        "modelFormat": {"name": MODEL_FORMAT},
        "protocolVersion": PROTOCOL,
        "runtime": RUNTIME,
        "storageUri": storage_uri,
        "resources": {k: dict(v) for k, v in (resources or DEFAULT_RESOURCES).items()},
    }
    predictor: dict[str, Any] = {
        "minReplicas": min_replicas,
        "maxReplicas": max_r,
        "model": model,
        "securityContext": {
            k: dict(v) if isinstance(v, Mapping) else v for k, v in POD_SECURITY_CONTEXT.items()
        },
    }
    if service_account:
        predictor["serviceAccountName"] = service_account
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": name,
                "app.kubernetes.io/managed-by": "mlops-platform",
                "mlops.platform/model-version": str(model_version),
                **dict(labels or {}),
            },
            "annotations": {
                **dict(annotations or {}),
                ANNOTATION_DEPLOYMENT_MODE: DEPLOYMENT_MODE,
                ANNOTATION_MODEL_NAME: model_name,
                ANNOTATION_MODEL_VERSION: str(model_version),
            },
        },
        "spec": {"predictor": predictor},
    }


def storage_uri_for(download_uri: str, artifacts_destination: str) -> str:
    """Map an MLflow-proxied artifact URI onto the object store behind the proxy.

    With `--serve-artifacts`, MLflow hands out ``mlflow-artifacts:/<path>`` URIs whose
    bytes live at ``<artifacts_destination>/<path>``; KServe's storage initializer reads
    the object store directly, so it needs the latter.

    Args:
        download_uri: What `MlflowClient.get_model_version_download_uri` returned.
        artifacts_destination: The server's `--artifacts-destination`, e.g. s3://b/mlflow.

    Returns:
        An ``s3://`` (or other object-store) URI.
    """
    prefix = "mlflow-artifacts:"
    if not download_uri.startswith(prefix):
        return download_uri
    path = download_uri[len(prefix) :].lstrip("/")
    # mlflow-artifacts://host:port/path carries an authority; drop it.
    if download_uri.startswith(prefix + "//"):
        path = path.split("/", 1)[1] if "/" in path else ""
    return artifacts_destination.rstrip("/") + "/" + path
