"""The ``components.kfp`` section: standalone Kubeflow Pipelines on S3 and RDS MySQL."""

from __future__ import annotations

from typing import Literal

from infra.base.config import ChartVersion, Strict
from infra.services.kfp.release import KFP_RELEASE


class KfpConfig(Strict):
    """Kubeflow Pipelines (its database is ``databases.kfp``).

    Attributes:
        enabled: Deploy it (it needs MLflow: the pipelines log there).
        version: KFP release; must equal the ref the committed overlay pins
            (``release.KFP_RELEASE``, the one place that names it).
        namespace: ``kubeflow``: the upstream manifests hard-code it, and so do their
            database names (``mlpipeline``, ``metadb``, ``cachedb``).
    """

    enabled: bool = True
    version: ChartVersion = KFP_RELEASE
    namespace: Literal["kubeflow"] = "kubeflow"
