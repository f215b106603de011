"""Serving rules: KServe InferenceServices."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from harness import messages, res

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
STORE = res("mlops:storage:ArtifactStore", "artifacts", {})
ARTIFACTS = res(
    "aws:s3/bucket:Bucket", "artifacts", {"bucket": "acme-prod-artifacts", "tags": {}}, parent=STORE
)
LOGS = res(
    "aws:s3/bucket:Bucket",
    "artifacts-logs",
    {"bucket": "acme-prod-artifacts-logs", "tags": {"purpose": "s3-access-logs"}},
    parent=STORE,
)
MODEL: dict[str, Any] = {
    "modelFormat": {"name": "mlflow"},
    "runtime": "kserve-mlserver",
    "protocolVersion": "v2",
    "storageUri": "s3://acme-prod-artifacts/mlflow/1/models/m-1/artifacts",
    "resources": {
        "requests": {"cpu": "100m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    },
}
INPUTS: dict[str, Any] = {
    "apiVersion": "serving.kserve.io/v1beta1",
    "kind": "InferenceService",
    "metadata": {
        "name": "churn",
        "namespace": "team-risk",
        "annotations": {
            "mlops.platform/registered-model": "churn",
            "mlops.platform/model-version": "3",
        },
    },
    "spec": {"predictor": {"minReplicas": 2, "maxReplicas": 4, "model": MODEL}},
}


def isvc(change: Any = None) -> dict[str, Any]:
    inputs = copy.deepcopy(INPUTS)
    if change:
        change(inputs)
    return res(ISVC, "churn", inputs)


def stack(change: Any = None) -> list[dict[str, Any]]:
    return [STORE, ARTIFACTS, LOGS, isvc(change)]


@pytest.mark.parametrize(
    "policy",
    [
        "kserve-resources",
        "kserve-min-replicas",
        "kserve-model-version-annotation",
        "kserve-storage-uri-in-artifact-bucket",
    ],
)
def test_kserve_rules_pass(policy: str) -> None:
    assert messages(policy, stack()) == []


def _model(**change: Any) -> Any:
    return lambda i: i["spec"]["predictor"]["model"].update(change)


def _annotations(**change: Any) -> Any:
    return lambda i: i["metadata"]["annotations"].update(change)


FAILING = [
    (
        "kserve-resources",
        _model(resources={"requests": {"cpu": "1", "memory": "1Gi"}}),
        "predictor.model has no limits.cpu, limits.memory.",
    ),
    (
        "kserve-resources",
        lambda i: i["spec"].update(predictor={"minReplicas": 2}),
        "The InferenceService has no predictor model or container.",
    ),
    (
        "kserve-resources",
        lambda i: i["spec"].update(transformer={"containers": [{"name": "feast", "image": "t:1"}]}),
        "transformer container 'feast' has no requests.cpu, requests.memory, limits.cpu, "
        "limits.memory.",
    ),
    (
        "kserve-min-replicas",
        lambda i: i["spec"]["predictor"].update(minReplicas=1),
        "predictor.minReplicas is 1; at least 2 required.",
    ),
    (
        "kserve-min-replicas",
        lambda i: i["spec"]["predictor"].pop("minReplicas"),
        "predictor.minReplicas is unset (1); at least 2 required.",
    ),
    (
        "kserve-model-version-annotation",
        _annotations(**{"mlops.platform/model-version": "v3"}),
        "Annotation 'mlops.platform/model-version' must be the registered model version (a "
        "positive integer), got 'v3'.",
    ),
    (
        "kserve-model-version-annotation",
        lambda i: i["metadata"]["annotations"].pop("mlops.platform/registered-model"),
        "No 'mlops.platform/registered-model' annotation naming the MLflow registered model.",
    ),
    (
        "kserve-storage-uri-in-artifact-bucket",
        _model(storageUri="s3://someone-else/model"),
        "InferenceService 'churn' reads s3://someone-else, outside the artifact bucket "
        "(acme-prod-artifacts).",
    ),
    (
        "kserve-storage-uri-in-artifact-bucket",
        _model(storageUri="s3://acme-prod-artifacts-logs/x"),
        "InferenceService 'churn' reads s3://acme-prod-artifacts-logs, outside the artifact bucket "
        "(acme-prod-artifacts).",
    ),
    (
        "kserve-storage-uri-in-artifact-bucket",
        _model(storageUri="https://example.com/model.pkl"),
        "InferenceService 'churn' predictor.model.storageUri 'https://example.com/model.pkl' is "
        "not an s3:// URI in the artifact bucket.",
    ),
]


@pytest.mark.parametrize(("policy", "change", "message"), FAILING)
def test_kserve_rules_fail(policy: str, change: Any, message: str) -> None:
    assert messages(policy, stack(change)) == [message]


def test_min_replicas_is_configurable_for_dev() -> None:
    one = stack(lambda i: i["spec"]["predictor"].update(minReplicas=1))
    assert messages("kserve-min-replicas", one, {"minimum": 1}) == []


def test_artifact_bucket_from_config_or_tag() -> None:
    team = stack(_model(storageUri="s3://team-bucket/m"))
    assert (
        messages(
            "kserve-storage-uri-in-artifact-bucket", team, {"artifact_buckets": ["team-bucket"]}
        )
        == []
    )
    tagged = res(
        "aws:s3/bucket:Bucket",
        "team",
        {"bucket": "team-bucket", "tags": {"purpose": "ml-artifacts"}},
    )
    assert messages("kserve-storage-uri-in-artifact-bucket", [*team, tagged]) == []


def test_unknown_artifact_bucket_is_a_violation() -> None:
    assert messages("kserve-storage-uri-in-artifact-bucket", [isvc()]) == [
        "InferenceService 'churn' reads s3://acme-prod-artifacts but no artifact bucket is "
        "known (set the policy's artifact_buckets or tag the bucket purpose=ml-artifacts)."
    ]
