"""The InferenceService template against KServe v0.20's own CRD schema."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mlops_runtime.inference_service import render_inference_service, storage_uri_for

CRD = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "kserve-crd-v0.20.0"
    / "serving.kserve.io_inferenceservices.yaml"
)


def _strict(schema: Any) -> Any:
    """Reject unknown fields, as the API server's strict field validation does."""
    if isinstance(schema, dict):
        schema = {k: _strict(v) for k, v in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@pytest.fixture(scope="module")
def schema() -> jsonschema.protocols.Validator:
    # The C loader when present: the CRD is 2 MB and the pure-Python loader takes seconds.
    crd = yaml.load(CRD.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1beta1")
    root = copy.deepcopy(version["schema"]["openAPIV3Schema"])
    # metadata is validated by the API server itself, not by the CRD schema.
    root["properties"]["metadata"] = {"type": "object"}
    # one validator for the module: checking the 2 MB schema itself takes seconds each time
    return jsonschema.Draft7Validator(_strict(root))


def render(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(
        name="breast-cancer",
        namespace="fraud",
        storage_uri="s3://mlops-dev-artifacts/mlflow/1/models/m-abc/artifacts",
        model_name="breast-cancer-classifier",
        model_version="7",
        min_replicas=2,
        resources={
            "requests": {"cpu": "200m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
    )
    args.update(overrides)
    return render_inference_service(**args)


def test_rendered_service_is_valid_against_the_crd(schema: jsonschema.protocols.Validator) -> None:
    service = render(service_account="fraud-models", max_replicas=4)
    schema.validate(service)
    model = service["spec"]["predictor"]["model"]
    assert model == {
        "modelFormat": {"name": "mlflow"},
        "protocolVersion": "v2",
        "runtime": "kserve-mlserver",
        "storageUri": "s3://mlops-dev-artifacts/mlflow/1/models/m-abc/artifacts",
        "resources": {
            "requests": {"cpu": "200m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
    }
    annotations = service["metadata"]["annotations"]
    assert annotations["mlops.platform/registered-model"] == "breast-cancer-classifier"
    assert annotations["mlops.platform/model-version"] == "7"
    assert annotations["serving.kserve.io/deploymentMode"] == "Standard"
    assert service["spec"]["predictor"]["serviceAccountName"] == "fraud-models"


def test_strict_schema_catches_a_misspelt_field(schema: jsonschema.protocols.Validator) -> None:
    service = render()
    service["spec"]["predictor"]["model"]["storageURI"] = "s3://typo"
    with pytest.raises(jsonschema.ValidationError, match="storageURI"):
        schema.validate(service)


def test_caller_annotations_cannot_hide_the_model_version() -> None:
    service = render(annotations={"mlops.platform/model-version": "1", "team": "fraud"})
    assert service["metadata"]["annotations"]["mlops.platform/model-version"] == "7"
    assert service["metadata"]["annotations"]["team"] == "fraud"


@pytest.mark.parametrize(
    "bad", [{"min_replicas": 0}, {"storage_uri": " "}, {"min_replicas": 3, "max_replicas": 2}]
)
def test_bad_arguments_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        render(**bad)


@pytest.mark.parametrize(
    ("download", "expected"),
    [
        ("mlflow-artifacts:/1/models/m-1/artifacts", "s3://b/mlflow/1/models/m-1/artifacts"),
        (
            "mlflow-artifacts://10.0.0.1:5000/1/models/m-1/artifacts",
            "s3://b/mlflow/1/models/m-1/artifacts",
        ),
        ("s3://elsewhere/model", "s3://elsewhere/model"),
    ],
)
def test_storage_uri_maps_the_proxy_onto_the_bucket(download: str, expected: str) -> None:
    assert storage_uri_for(download, "s3://b/mlflow/") == expected


def test_predictor_pod_passes_restricted_for_the_containers_kserve_injects() -> None:
    # KServe copies the predictor's pod fields onto the pod; the storage-initializer it
    # injects sets no seccomp profile of its own (issue 18, defect 5), so the pod must
    ctx = render()["spec"]["predictor"]["securityContext"]
    assert ctx == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
