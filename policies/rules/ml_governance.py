"""ML governance: only approved, evaluated model versions are served (prod).

Annotations on each InferenceService (written by the promotion step):

* ``mlops.platform/approved-by``: who approved the model version;
* ``mlops.platform/approved-version``: the version approved, which must equal
  ``mlops.platform/model-version`` (an approval does not carry over to a new version);
* ``mlops.platform/evaluation-metrics``: JSON object of the evaluation metrics recorded
  for that version, e.g. ``{"accuracy": 0.93, "f1": 0.91}``.

These are stack policies: governance is judged over everything the stack serves, and a
rule reports each InferenceService by URN. The dev pack config disables them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Policy, PolicyResource, ReportViolation, StackValidationArgs

from .common import as_dict, config, get, resources_of, stack_policy
from .serving import ANNOTATION_VERSION, INFERENCE_SERVICE

ANNOTATION_APPROVED_BY = "mlops.platform/approved-by"
ANNOTATION_APPROVED_VERSION = "mlops.platform/approved-version"
ANNOTATION_METRICS = "mlops.platform/evaluation-metrics"


def _annotations(isvc: PolicyResource) -> Mapping[str, Any]:
    return as_dict(get(isvc.props, "metadata", "annotations"))


def _name(isvc: PolicyResource) -> str:
    return str(get(isvc.props, "metadata", "name") or isvc.name)


def _check_approved(args: StackValidationArgs, report: ReportViolation) -> None:
    for isvc in resources_of(args, INFERENCE_SERVICE):
        ann = _annotations(isvc)
        if not str(ann.get(ANNOTATION_APPROVED_BY) or "").strip():
            report(
                f"InferenceService '{_name(isvc)}' has no '{ANNOTATION_APPROVED_BY}' "
                "annotation: the model version was never approved.",
                isvc.urn,
            )
            continue
        approved, served = ann.get(ANNOTATION_APPROVED_VERSION), ann.get(ANNOTATION_VERSION)
        if approved is None or str(approved) != str(served):
            report(
                f"InferenceService '{_name(isvc)}' serves version {served!r} but the "
                f"approval names version {approved!r} ('{ANNOTATION_APPROVED_VERSION}').",
                isvc.urn,
            )


def metrics_of(isvc: PolicyResource) -> dict[str, float] | None:
    """The recorded evaluation metrics, or None when absent or not a JSON object of numbers."""
    raw = _annotations(isvc).get(ANNOTATION_METRICS)
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not data:
        return None
    out = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if not math.isfinite(value):
            return None
        out[str(key)] = float(value)
    return out


def _check_metrics(args: StackValidationArgs, report: ReportViolation) -> None:
    required = [str(m) for m in config(args, "required_metrics", [])]
    thresholds = as_dict(config(args, "thresholds", {}))
    for isvc in resources_of(args, INFERENCE_SERVICE):
        metrics = metrics_of(isvc)
        if metrics is None:
            report(
                f"InferenceService '{_name(isvc)}' has no '{ANNOTATION_METRICS}' annotation "
                "holding a JSON object of numeric evaluation metrics.",
                isvc.urn,
            )
            continue
        missing = [m for m in required if m not in metrics]
        if missing:
            report(
                f"InferenceService '{_name(isvc)}' lacks evaluation metric(s) "
                f"{', '.join(missing)}.",
                isvc.urn,
            )
        for metric, minimum in thresholds.items():
            if (
                metric in metrics
                and isinstance(minimum, (int, float))
                and metrics[metric] < minimum
            ):
                report(
                    f"InferenceService '{_name(isvc)}' {metric}={metrics[metric]:g} is "
                    f"below the threshold {minimum:g}.",
                    isvc.urn,
                )


POLICIES: list[Policy] = [
    stack_policy(
        "ml-model-approved",
        "Served model versions are approved (approved-by, and approved-version equal to the "
        "served model-version).",
        _check_approved,
        remediation="Promote with `mlops model promote`, which records the approval.",
    ),
    stack_policy(
        "ml-evaluation-recorded",
        "Served model versions carry their recorded evaluation metrics, meeting any "
        "configured thresholds.",
        _check_metrics,
        schema={
            "required_metrics": {"type": "array", "items": {"type": "string"}, "default": []},
            "thresholds": {
                "type": "object",
                "additionalProperties": {"type": "number"},
                "default": {},
            },
        },
    ),
]
