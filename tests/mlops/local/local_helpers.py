"""Shared by the local platform tests: platforms on free ports and small real workloads
(a model, features, an inference call). The platforms themselves come from tests/servers.py."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import servers
from service_helpers import free_port, postgres_database, require_service

from mlops.local.platform import LocalPlatform

__all__ = ["free_port", "postgres_database", "require_service"]

# Pinned so log_model skips its ~3 s requirement inference (and the server need not guess).
PIP_REQUIREMENTS = ["scikit-learn", "pandas"]


def dataset(rows: int = 60) -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.head(rows)
    features = frame.iloc[:, :3].rename(columns=lambda c: c.replace(" ", "_"))
    return features, frame["target"]


def train_and_register(
    model_name: str, c: float = 1.0, experiment: str = "local-tests"
) -> tuple[str, str]:
    """Train, log and register a tiny classifier; returns (run id, version)."""
    import mlflow
    from sklearn.linear_model import LogisticRegression

    x, y = dataset()
    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        model = LogisticRegression(C=c, max_iter=500).fit(x, y)
        mlflow.log_param("C", c)
        mlflow.log_metric("train_accuracy", float(model.score(x, y)))
        with warnings.catch_warnings():
            # The integer class labels make MLflow hint about missing values; irrelevant here.
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                pip_requirements=PIP_REQUIREMENTS,
                input_example=x.head(2),
                registered_model_name=model_name,
            )
    return run.info.run_id, str(info.registered_model_version)


def infer(base_url: str, model_name: str, rows: pd.DataFrame) -> dict[str, Any]:
    """One Open Inference Protocol v2 request, one tensor per column."""
    body = {
        "inputs": [
            {
                "name": col,
                "shape": [len(rows)],
                "datatype": "FP64",
                "data": [float(v) for v in rows[col]],
            }
            for col in rows.columns
        ]
    }
    request = urllib.request.Request(
        f"{base_url}/v2/models/{model_name}/infer",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


MODEL = "local-test-model"


def make_platform(state_dir: Path, **overrides: Any) -> LocalPlatform:
    """A platform (not started) on free ports serving `MODEL`; see tests/servers.py."""
    return servers.make_platform(state_dir, model_name=MODEL, **overrides)


def use_env(p: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in p.env().items():
        monkeypatch.setenv(key, value)
    # Fluent mlflow caches the tracking URI of an earlier test's platform.
    import mlflow

    mlflow.set_tracking_uri(p.mlflow_uri)
    os.environ.pop("MLFLOW_RUN_ID", None)


def _feature_frame(ids: list[int]) -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    from pipelines.data import column_name

    frame = load_breast_cancer(as_frame=True).frame.drop(columns="target").head(len(ids))
    frame = frame.rename(columns=column_name).astype("float64")
    frame.insert(0, "patient_id", pd.Series(ids, dtype="int64"))
    frame["event_timestamp"] = pd.Timestamp(datetime.now(UTC))
    return frame


def check_feast_online_store(p: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Apply the sample repo to the platform's S3 registry, write and read online."""
    from pipelines import feast_repo, storage

    use_env(p, monkeypatch)
    ids = [int(uuid.uuid4().int % 10**12) for _ in range(3)]
    frame = _feature_frame(ids)
    uri = f"s3://{p.config.bucket}/features/test-{uuid.uuid4().hex[:6]}.parquet"
    storage.write_parquet(frame, uri)
    feast_repo.apply(p.feast_repo_path, uri)
    assert p.status()["feast"]["registry_exists"] is True
    store = feast_repo.store(p.feast_repo_path)
    store.write_to_online_store("breast_cancer_features", frame)
    got = feast_repo.online_features(p.feast_repo_path, ids)
    assert got["patient_id"] == ids
    assert got["mean_radius"] == list(frame["mean_radius"])
    # apply runs in this process: a second one reads the definitions afresh
    moved = uri.replace(".parquet", "-moved.parquet")
    feast_repo.apply(p.feast_repo_path, moved)
    registry = feast_repo.store(p.feast_repo_path)
    assert registry.get_data_source("breast_cancer_source").path == moved
