"""Evidently drift report: recent inference inputs against the training features."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pipelines import settings

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class DriftResult:
    drifted_columns: int
    columns: int
    share: float
    threshold: float
    drift_detected: bool
    column_p_values: dict[str, float]
    html: str
    json: str


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    threshold: float = 0.3,
    column_threshold: float = 0.05,
) -> DriftResult:
    """Compare `current` with `reference` column by column (Evidently's DataDriftPreset).

    Args:
        reference: Training features (only the columns to compare).
        current: Recent inference inputs with the same columns.
        threshold: Share of drifted columns above which the data set counts as drifted.
        column_threshold: Per-column p-value below which a column has drifted.

    Raises:
        ValueError: When `current` lacks columns of `reference` or is empty.
    """
    from evidently import Report
    from evidently.presets import DataDriftPreset

    missing = sorted(set(reference.columns) - set(current.columns))
    if missing:
        raise ValueError(f"recent inputs lack training columns: {', '.join(missing)}")
    if current.empty:
        raise ValueError("no recent inference inputs to compare")
    current = current[list(reference.columns)]
    report = Report([DataDriftPreset(drift_share=threshold, threshold=column_threshold)])
    snapshot = report.run(reference_data=reference, current_data=current)
    metrics = snapshot.dict()["metrics"]
    count: dict[str, Any] = next(
        m["value"] for m in metrics if m["metric_name"].startswith("DriftedColumnsCount")
    )
    p_values = {
        m["config"]["column"]: float(m["value"])
        for m in metrics
        if m["metric_name"].startswith("ValueDrift")
    }
    share = float(count["share"])
    return DriftResult(
        drifted_columns=int(count["count"]),
        columns=len(reference.columns),
        share=share,
        threshold=threshold,
        drift_detected=share > threshold,
        column_p_values=p_values,
        html=snapshot.get_html_str(as_iframe=False),
        json=snapshot.json(),
    )


def report_prefix(model_name: str, at: datetime | None = None) -> str:
    stamp = (at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return settings.data_uri(f"drift/{model_name}/{stamp}")


def summary(result: DriftResult) -> str:
    return json.dumps(
        {
            "drifted_columns": result.drifted_columns,
            "columns": result.columns,
            "share": result.share,
            "threshold": result.threshold,
            "drift_detected": result.drift_detected,
        },
        sort_keys=True,
    )


# The metric the monitoring component's dashboard and alert read (components.monitoring).
DRIFT_SHARE_METRIC = "mlops_drift_share"
PUSH_JOB = "mlops-drift"


def push_drift_share(url: str, model_name: str, result: DriftResult, timeout: float = 10) -> None:
    """Push the drift share of `model_name` to the Prometheus Pushgateway at `url`.

    The grouping key is the model, so each model keeps its own latest value and the alert
    ``max by (model) (mlops_drift_share) > threshold`` names the model that drifted.
    """
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

    registry = CollectorRegistry()
    share = Gauge(
        DRIFT_SHARE_METRIC, "Share of drifted feature columns in the last check", registry=registry
    )
    detected = Gauge(
        "mlops_drift_detected", "1 when the last check flagged drift", registry=registry
    )
    share.set(result.share)
    detected.set(1.0 if result.drift_detected else 0.0)
    push_to_gateway(
        url, job=PUSH_JOB, registry=registry, grouping_key={"model": model_name}, timeout=timeout
    )
