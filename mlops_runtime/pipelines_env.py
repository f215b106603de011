"""The environment every pipeline run reads: names declared once.

In Kubeflow each task reads the platform's endpoints from the ConfigMap `PLATFORM_ENV`
and its MLflow credentials from the Secret of the same name, both in the namespace the
runs execute in (the Kubeflow Pipelines slice writes them); locally the same variables
come from the process environment (the local platform's ``env()``).
"""

from __future__ import annotations

PLATFORM_ENV = "mlops-pipelines-env"
# The MLflow workspace a run logs to (MLflow's client reads it); set for a team's runs only.
WORKSPACE_ENV = "MLFLOW_WORKSPACE"

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
BUCKET_ENV = "MLOPS_ARTIFACT_BUCKET"
# Prefix of everything the pipelines write (features, deployments, inference inputs, drift
# reports): empty locally; in the cloud the prefix the runner's IAM role may write.
DATA_PREFIX_ENV = "MLOPS_DATA_PREFIX"
# Where the MLflow server stores proxied artifacts (its --artifacts-destination).
ARTIFACTS_DESTINATION_ENV = "MLOPS_MLFLOW_ARTIFACTS_DESTINATION"
FEAST_PROJECT_ENV = "MLOPS_FEAST_PROJECT"
FEAST_REGISTRY_ENV = "MLOPS_FEAST_REGISTRY"
FEAST_ONLINE_STORE_ENV = "MLOPS_FEAST_ONLINE_STORE"
# Secrets Manager secret (JSON with `auth_token`) of the Redis online store; the token is
# read at run time through the runner's IAM role, so it never sits in Kubernetes.
REDIS_AUTH_SECRET_ENV = "MLOPS_FEAST_REDIS_AUTH_SECRET_ARN"
# Prometheus Pushgateway the drift step pushes `mlops_drift_share` to; empty: no push.
PUSHGATEWAY_ENV = "MLOPS_PUSHGATEWAY_URL"
REGION_ENV = "AWS_DEFAULT_REGION"

# Locally only: the local platform's S3 endpoint, feature repository, model server and
# state folder (a deploy step then serves the champion on the local model server).
S3_ENDPOINT_ENV = "AWS_ENDPOINT_URL"
FEAST_REPO_ENV = "MLOPS_FEAST_REPO"
MODEL_SERVER_ENV = "MLOPS_MODEL_SERVER_URL"
LOCAL_STATE_ENV = "MLOPS_LOCAL_STATE_DIR"

# The ConfigMap's keys, in the order the cluster writes them.
PLATFORM_ENV_KEYS = (
    TRACKING_URI_ENV,
    BUCKET_ENV,
    DATA_PREFIX_ENV,
    ARTIFACTS_DESTINATION_ENV,
    FEAST_PROJECT_ENV,
    FEAST_REGISTRY_ENV,
    FEAST_ONLINE_STORE_ENV,
    REDIS_AUTH_SECRET_ENV,
    PUSHGATEWAY_ENV,
    REGION_ENV,
)
# The Secret's keys. Optional: with OIDC in front of MLflow the in-cluster server needs
# no credentials.
USERNAME_ENV = "MLFLOW_TRACKING_USERNAME"
PASSWORD_ENV = "MLFLOW_TRACKING_PASSWORD"
PLATFORM_SECRET_KEYS = (USERNAME_ENV, PASSWORD_ENV)

# A team's runs read the same keys from a ConfigMap and a Secret of the team's own
# (`platform_env(team)`), which also name its MLflow workspace and hold its pipeline user's
# credentials, never another team's.
TEAM_ENV_KEYS = (*PLATFORM_ENV_KEYS, WORKSPACE_ENV)


def platform_env(team: str | None = None) -> str:
    """The ConfigMap and Secret a run reads: the shared ones, or a team's."""
    return f"{PLATFORM_ENV}-{team}" if team else PLATFORM_ENV
