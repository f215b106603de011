"""Who keeps what under which prefix of the artifact bucket, declared once.

Each service's IRSA role is scoped to its prefix; a team's prefix is ``teams/<team>``
(`TeamConfig.prefix`).
"""

from infra.foundation.ci.permissions import DEPLOY_PREFIX

MLFLOW = "mlflow"  # MLflow's proxied artifacts (models, run artifacts)
PIPELINES = "pipelines"  # KFP's pipeline root and the sample pipelines' data
FEAST = "feast"  # Feast's registry
DEPLOY = DEPLOY_PREFIX  # the checkouts CI uploads for the deploy runner (deploy/<env>/)
