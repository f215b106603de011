"""A team's names on the platform, declared once.

The stack config (`infra.services.tenancy.config.TeamConfig`) creates them: the namespace
``team-<team>``, the service account its pipelines and services run as (the subject of the
team's read-write IRSA role), the team's prefix of the artifact store, the only one that
role may reach, and the account its model servers run as, whose role only reads the team's
published models (``teams/<team>/models/``). The pipelines that deploy a team's model use
the same names, so the InferenceService they render runs as the serving account and reads
from where they publish.
"""

from __future__ import annotations

SERVICE_ACCOUNT = "pipeline-runner"
# the team's model servers (KServe predictors): a role that reads the team's published models
# and nothing else, so a compromised model server cannot change a model or read the team's data
SERVING_ACCOUNT = "model-server"
# the Kubernetes label on every object of one team (its AWS resources carry the tag `team`)
LABEL = "mlops.platform/team"
TAG = "team"
# the label (value `SERVING`) that marks a team's serving account: the policy pack holds an
# account so labelled to reading the team's models (`team-serving-read-only`)
WORKLOAD_LABEL = "mlops.platform/workload"
SERVING = "serving"
# the folder of a team's prefix that holds its published models
MODELS = "models"
# the MLflow account of runs that belong to no team (the shared Kubeflow runner, the local
# platform without --team): in the ``default`` workspace only, never admin
SHARED_PIPELINES_USER = "pipelines"


def namespace(team: str) -> str:
    return f"team-{team}"


def prefix(team: str) -> str:
    """The team's prefix of the artifact store (no bucket, no slashes at the ends)."""
    return f"teams/{team}"


def mlflow_prefix(team: str) -> str:
    """Where the team's MLflow workspace keeps its runs' artifacts (its artifact root)."""
    return f"{prefix(team)}/mlflow"


def kfp_runner(team: str) -> str:
    """The service account a team's Kubeflow runs execute as (in Kubeflow's namespace)."""
    return f"{SERVICE_ACCOUNT}-{team}"


def pipelines_user(team: str) -> str:
    """The MLflow account the team's pipeline runs log as (in its workspace only)."""
    return f"{team}-pipelines"


def models_prefix(team: str) -> str:
    """Where the team's models are published: all its serving account may read."""
    return f"{prefix(team)}/{MODELS}"


def model_prefix(team: str, model_name: str, version: str) -> str:
    """Where a registered model version is published for the team's model servers."""
    return f"{models_prefix(team)}/{model_name}/{version}"
