"""Talk to the model server over the Open Inference Protocol (v2), as KServe serves it."""

from __future__ import annotations

import json
import tempfile
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_runtime import teams
from pipelines import settings, storage

if TYPE_CHECKING:
    import pandas as pd

_DTYPES = {"f": "FP64", "i": "INT64", "u": "UINT64", "b": "BOOL"}


def publish_model(download_uri: str, team: str, model_name: str, version: str) -> str:
    """Copy a registered model version to the team's prefix, where its model servers read.

    The team's serving role may read only its published models (``teams/<team>/models/``),
    not MLflow's prefix (``mlflow/``): the run downloads the version through the tracking
    server (its proxied artifacts, with the run's MLflow credentials) and writes it under
    ``teams/<team>/models/<model>/<version>/``, which the team's runner role may write.

    Args:
        download_uri: What `MlflowClient.get_model_version_download_uri` returned.
        team: The team whose model servers serve it.
        model_name: Registered model name.
        version: Registered model version.

    Returns:
        The ``s3://`` URI of the published model directory (its MLmodel at the top).
    """
    import mlflow

    target = f"s3://{settings.bucket()}/{teams.model_prefix(team, model_name, version)}"
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=download_uri, dst_path=tmp))
        if not (local / "MLmodel").is_file():
            raise RuntimeError(f"{download_uri} has no MLmodel: not a model directory")
        return storage.put_directory(local, target)


def infer_request(frame: pd.DataFrame) -> dict[str, Any]:
    """A v2 inference request with one input per column, decoded as a DataFrame
    (`content_type: pd`), which is what MLServer's MLflow runtime feeds the model."""
    inputs = []
    for column in frame.columns:
        kind = frame[column].dtype.kind
        inputs.append(
            {
                "name": str(column),
                "shape": [len(frame)],
                "datatype": _DTYPES.get(kind, "BYTES"),
                "data": frame[column].tolist(),
            }
        )
    return {"parameters": {"content_type": "pd"}, "inputs": inputs}


def infer(base_url: str, model_name: str, frame: pd.DataFrame, timeout: float = 30) -> list[Any]:
    """Predictions of the served model for `frame` (POST /v2/models/<name>/infer)."""
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}/v2/models/{model_name}/infer",
        data=json.dumps(infer_request(frame)).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = json.loads(response.read())
    return list(body["outputs"][0]["data"])


def record_inference_inputs(model_name: str, frame: pd.DataFrame) -> str:
    """Store recent inference inputs where the drift pipeline reads them."""
    return storage.write_parquet(frame, settings.inference_uri(model_name))
