"""A team's names on the platform, declared once.

The stack config (`infra.services.tenancy.config.TeamConfig`) creates them: the namespace
``team-<team>``, the service account its services run as (the subject of the team's IRSA
role) and the team's prefix of the artifact store, the only one that role may read. The
pipelines that deploy a team's model use the same names, so the InferenceService they render
runs as that account and reads from that prefix.
"""

from __future__ import annotations

SERVICE_ACCOUNT = "pipeline-runner"
# the Kubernetes label on every object of one team (its AWS resources carry the tag `team`)
LABEL = "mlops.platform/team"
TAG = "team"
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


def pipelines_user(team: str) -> str:
    """The MLflow account the team's pipeline runs log as (in its workspace only)."""
    return f"{team}-pipelines"


def model_prefix(team: str, model_name: str, version: str) -> str:
    """Where a registered model version is published for the team's model servers."""
    return f"{prefix(team)}/models/{model_name}/{version}"
