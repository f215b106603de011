"""Names and environment variables shared by the components, the CLI and the tests.

Components run in another process (locally) or another pod (in Kubeflow), so everything
they need beyond their parameters comes from the environment: locally from
the local platform, in the cluster from the ConfigMap and Secret that the Kubeflow
Pipelines slice writes into the namespace the runs execute in. Their names are the
runtime library's contract (`mlops_runtime.pipelines_env`).
"""

from __future__ import annotations

import os

from mlops_runtime.pipelines_env import (
    ARTIFACTS_DESTINATION_ENV,
    BUCKET_ENV,
    DATA_PREFIX_ENV,
    FEAST_ONLINE_STORE_ENV,
    FEAST_PROJECT_ENV,
    FEAST_REGISTRY_ENV,
    FEAST_REPO_ENV,
    LOCAL_STATE_ENV,
    MODEL_SERVER_ENV,
    PUSHGATEWAY_ENV,
    REDIS_AUTH_SECRET_ENV,
    S3_ENDPOINT_ENV,
    TRACKING_URI_ENV,
)

__all__ = [
    "ARTIFACTS_DESTINATION_ENV",
    "BUCKET_ENV",
    "DATA_PREFIX_ENV",
    "FEAST_ONLINE_STORE_ENV",
    "FEAST_PROJECT_ENV",
    "FEAST_REGISTRY_ENV",
    "FEAST_REPO_ENV",
    "LOCAL_STATE_ENV",
    "MODEL_SERVER_ENV",
    "PUSHGATEWAY_ENV",
    "REDIS_AUTH_SECRET_ENV",
    "S3_ENDPOINT_ENV",
    "TRACKING_URI_ENV",
]

# The image `pipelines/Dockerfile` builds; in the cloud the ECR repository replaces it at
# compile/submit time (`--image` or MLOPS_PIPELINE_IMAGE), see `mlops.pipeline_runner`.
DEFAULT_IMAGE = "mlops-platform/pipelines:0.1.0"
IMAGE_ENV = "MLOPS_PIPELINE_IMAGE"

DEFAULT_BUCKET = "mlops-artifacts"

DATASET = "breast_cancer"
ENTITY = "patient_id"
TIMESTAMP = "event_timestamp"
LABEL = "target"
FEATURE_VIEW = "breast_cancer_features"
FEATURE_SERVICE = "breast_cancer_model"
MODEL_NAME = "breast-cancer-classifier"
EXPERIMENT = "breast-cancer"
DRIFT_EXPERIMENT = "breast-cancer-drift"


def bucket() -> str:
    return os.environ.get(BUCKET_ENV) or DEFAULT_BUCKET


def data_uri(path: str) -> str:
    """``s3://<bucket>[/<data prefix>]/<path>``: where the pipelines keep their data."""
    prefix = (os.environ.get(DATA_PREFIX_ENV) or "").strip("/")
    return f"s3://{bucket()}/{prefix + '/' if prefix else ''}{path}"


def features_uri() -> str:
    """The parquet file the features pipeline writes and the Feast source reads."""
    return data_uri(f"features/{DATASET}.parquet")


def artifacts_destination() -> str:
    return os.environ.get(ARTIFACTS_DESTINATION_ENV) or f"s3://{bucket()}/mlflow"


def inference_uri(model_name: str) -> str:
    """Where recent inference inputs of `model_name` are collected for drift checks."""
    return data_uri(f"inference/{model_name}/recent.parquet")
