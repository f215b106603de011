"""Names and environment variables shared by the components, the CLI and the tests.

Components run in another process (locally) or another pod (in Kubeflow), so everything
they need beyond their parameters comes from the environment: locally from
`LocalPlatform.env()`, in the cluster from the ConfigMap and Secret
`pipelines.definitions.PLATFORM_ENV` that the KubeflowPipelines component writes into the
namespace the runs execute in.
"""

from __future__ import annotations

import os

# The image `pipelines/Dockerfile` builds; in the cloud the ECR repository replaces it at
# compile/submit time (`--image` or MLOPS_PIPELINE_IMAGE), see `pipelines.runner`.
DEFAULT_IMAGE = "mlops-platform/pipelines:0.1.0"
IMAGE_ENV = "MLOPS_PIPELINE_IMAGE"

BUCKET_ENV = "MLOPS_ARTIFACT_BUCKET"
DEFAULT_BUCKET = "mlops-artifacts"
# Prefix of everything the pipelines write (features, deployments, inference inputs, drift
# reports): empty locally; in the cloud the prefix the runner's IAM role may write.
DATA_PREFIX_ENV = "MLOPS_DATA_PREFIX"
S3_ENDPOINT_ENV = "AWS_ENDPOINT_URL"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
# Where the MLflow server stores proxied artifacts (its --artifacts-destination).
ARTIFACTS_DESTINATION_ENV = "MLOPS_MLFLOW_ARTIFACTS_DESTINATION"
FEAST_REPO_ENV = "MLOPS_FEAST_REPO"
FEAST_REGISTRY_ENV = "MLOPS_FEAST_REGISTRY"
FEAST_ONLINE_STORE_ENV = "MLOPS_FEAST_ONLINE_STORE"
FEAST_PROJECT_ENV = "MLOPS_FEAST_PROJECT"
MODEL_SERVER_ENV = "MLOPS_MODEL_SERVER_URL"
# Prometheus Pushgateway the drift step pushes `mlops_drift_share` to; empty: no push.
PUSHGATEWAY_ENV = "MLOPS_PUSHGATEWAY_URL"
# Secrets Manager secret (JSON with `auth_token`) of the Redis online store; the token is
# read at run time through the runner's IAM role, so it never sits in Kubernetes.
REDIS_AUTH_SECRET_ENV = "MLOPS_FEAST_REDIS_AUTH_SECRET_ARN"
LOCAL_STATE_ENV = "MLOPS_LOCAL_STATE_DIR"

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
