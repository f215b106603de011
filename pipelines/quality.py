"""The Great Expectations suite that gates training: schema, ranges, nulls.

Ranges come from the packaged reference data with a margin, so a unit change or a
corrupted extract fails while natural variation passes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipelines.data import feature_columns
from pipelines.settings import ENTITY, LABEL

if TYPE_CHECKING:
    import pandas as pd

RANGE_MARGIN = 2.0  # upper bound = margin x the reference maximum


class DataValidationError(Exception):
    """Raised when the data fails the suite; the message names every failed expectation."""


@dataclass(frozen=True)
class ValidationResult:
    success: bool
    evaluated: int
    failed: list[str] = field(default_factory=list)


def expected_ranges() -> dict[str, tuple[float, float]]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer().data
    return {
        name: (0.0, float(data[:, i].max()) * RANGE_MARGIN)
        for i, name in enumerate(feature_columns())
    }


def build_suite(require_label: bool = True) -> Any:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name="breast_cancer_training")
    columns = [ENTITY, *feature_columns(), *([LABEL] if require_label else [])]
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=50, max_value=10_000_000))
    for column in columns:
        suite.add_expectation(gxe.ExpectColumnToExist(column=column))
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column=ENTITY))
    for column, (low, high) in expected_ranges().items():
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeInTypeList(
                column=column, type_list=["float64", "float32", "FLOAT", "DOUBLE"]
            )
        )
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)
        )
    if require_label:
        suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=LABEL, value_set=[0, 1]))
    return suite


def describe(config: Any) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    args = ", ".join(f"{k}={v}" for k, v in sorted(kwargs.items()))
    return f"{config.type}({args})"


def validate_frame(frame: pd.DataFrame, require_label: bool = True) -> ValidationResult:
    """Run the suite on `frame` in an ephemeral GX context (no files, no telemetry)."""
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX logs a warning per unused data-context feature; keep pipeline logs readable.
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch_definition = (
        context.data_sources.add_pandas("pipeline")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("all")
    )
    suite = context.suites.add(build_suite(require_label))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite)
    failed = [describe(r.expectation_config) for r in result.results if not r.success]
    return ValidationResult(
        success=bool(result.success), evaluated=len(result.results), failed=failed
    )


def require_valid(frame: pd.DataFrame, require_label: bool = True) -> ValidationResult:
    """Validate and raise `DataValidationError` naming the failed expectations."""
    result = validate_frame(frame, require_label)
    if not result.success:
        raise DataValidationError(failure_message(result))
    return result


def failure_message(result: ValidationResult) -> str:
    return (
        f"data validation failed: {len(result.failed)} of {result.evaluated} "
        "expectations failed: " + "; ".join(result.failed)
    )
