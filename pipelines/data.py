"""The sample dataset: scikit-learn's breast-cancer data, shipped inside the package."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pipelines.settings import ENTITY, LABEL, TIMESTAMP

if TYPE_CHECKING:
    import pandas as pd


def column_name(raw: str) -> str:
    """`mean radius` -> `mean_radius`: Feast and MLflow signatures want identifiers."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", raw).strip("_").lower()


def feature_columns() -> list[str]:
    from sklearn.datasets import load_breast_cancer

    return [column_name(c) for c in load_breast_cancer().feature_names]


def load_dataset(as_of: datetime | None = None) -> pd.DataFrame:
    """The dataset with an entity id and an event timestamp per row.

    Args:
        as_of: Timestamp of the newest row; rows are one minute apart going back. Default now.

    Returns:
        Columns: `patient_id` (int64), `event_timestamp` (UTC), the 30 features (float64),
        `target` (int64, 1 = benign).
    """
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns=column_name)
    newest = (as_of or datetime.now(UTC)).replace(microsecond=0)
    frame.insert(0, ENTITY, range(1, len(frame) + 1))
    frame.insert(
        1, TIMESTAMP, [newest - timedelta(minutes=len(frame) - i) for i in range(len(frame))]
    )
    frame[ENTITY] = frame[ENTITY].astype("int64")
    frame[LABEL] = frame[LABEL].astype("int64")
    return frame


def split_holdout(
    frame: pd.DataFrame, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified (train, holdout) split; the holdout never reaches training."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < fraction < 1.0:
        raise ValueError(f"holdout fraction must be in (0, 1), got {fraction}")
    # Sorted first, so the same rows are held out whatever order the feature store
    # returned them in: `mlops model promote` rebuilds this very holdout set.
    frame = frame.sort_values(ENTITY).reset_index(drop=True)
    train, holdout = train_test_split(
        frame, test_size=fraction, random_state=seed, stratify=frame[LABEL]
    )
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


def default_holdout(fraction: float = 0.25, seed: int = 7) -> pd.DataFrame:
    """The holdout set the training pipeline uses with its default parameters."""
    return model_frame(split_holdout(load_dataset(), fraction, seed)[1])


def model_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Features plus label, in a fixed order: what models train and are scored on."""
    return frame[[*feature_columns(), LABEL]]
