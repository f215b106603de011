"""Evidently drift report: recent inference inputs against the training features."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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
    reference: pd.DataFrame, current: pd.DataFrame, threshold: float = 0.3,
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
    count: dict[str, Any] = next(m["value"] for m in metrics
                                 if m["metric_name"].startswith("DriftedColumnsCount"))
    p_values = {m["config"]["column"]: float(m["value"]) for m in metrics
                if m["metric_name"].startswith("ValueDrift")}
    share = float(count["share"])
    return DriftResult(
        drifted_columns=int(count["count"]), columns=len(reference.columns), share=share,
        threshold=threshold, drift_detected=share > threshold, column_p_values=p_values,
        html=snapshot.get_html_str(as_iframe=False), json=snapshot.json(),
    )


def report_prefix(bucket: str, model_name: str, at: datetime | None = None) -> str:
    stamp = (at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"s3://{bucket}/drift/{model_name}/{stamp}"


def summary(result: DriftResult) -> str:
    return json.dumps({"drifted_columns": result.drifted_columns, "columns": result.columns,
                       "share": result.share, "threshold": result.threshold,
                       "drift_detected": result.drift_detected}, sort_keys=True)
