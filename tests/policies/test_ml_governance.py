"""ML governance (stack) rules: approval and recorded evaluation of served versions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import messages, res, run

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
APPROVED = {
    "mlops.platform/registered-model": "churn",
    "mlops.platform/model-version": "3",
    "mlops.platform/approved-by": "jane@acme.example",
    "mlops.platform/approved-version": "3",
    "mlops.platform/evaluation-metrics": json.dumps({"accuracy": 0.93, "f1": 0.91}),
}


def served(**annotations: Any) -> list[dict[str, Any]]:
    merged = {k: v for k, v in {**APPROVED, **annotations}.items() if v is not None}
    return [
        res(
            ISVC,
            "churn",
            {"metadata": {"name": "churn", "annotations": merged}, "spec": {"predictor": {}}},
        )
    ]


@pytest.mark.parametrize("policy", ["ml-model-approved", "ml-evaluation-recorded"])
def test_ml_governance_passes_an_approved_evaluated_version(policy: str) -> None:
    assert messages(policy, served()) == []


@pytest.mark.parametrize(
    ("policy", "change", "message"),
    [
        (
            "ml-model-approved",
            {"mlops.platform/approved-by": None},
            "InferenceService 'churn' has no 'mlops.platform/approved-by' annotation: the model "
            "version was never approved.",
        ),
        (
            "ml-model-approved",
            {"mlops.platform/approved-version": "2"},
            "InferenceService 'churn' serves version '3' but the approval names version '2' "
            "('mlops.platform/approved-version').",
        ),
        (
            "ml-evaluation-recorded",
            {"mlops.platform/evaluation-metrics": None},
            "InferenceService 'churn' has no 'mlops.platform/evaluation-metrics' annotation "
            "holding a JSON object of numeric evaluation metrics.",
        ),
        (
            "ml-evaluation-recorded",
            {"mlops.platform/evaluation-metrics": '{"accuracy": "high"}'},
            "InferenceService 'churn' has no 'mlops.platform/evaluation-metrics' annotation "
            "holding a JSON object of numeric evaluation metrics.",
        ),
    ],
)
def test_ml_governance_fails(policy: str, change: dict[str, Any], message: str) -> None:
    assert messages(policy, served(**change)) == [message]


def test_required_metrics_and_thresholds_from_config() -> None:
    config = {"required_metrics": ["accuracy", "roc_auc"], "thresholds": {"accuracy": 0.95}}
    assert messages("ml-evaluation-recorded", served(), config) == [  # sorted by message
        "InferenceService 'churn' accuracy=0.93 is below the threshold 0.95.",
        "InferenceService 'churn' lacks evaluation metric(s) roc_auc.",
    ]


def test_stack_violation_names_the_inference_service() -> None:
    rs = served(**{"mlops.platform/approved-by": None})
    (violation,) = run("ml-model-approved", rs)
    assert violation["urn"] == rs[0]["urn"]
