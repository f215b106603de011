"""The ``components.feast`` section: the feature server, materialization and ``feast apply``."""

from __future__ import annotations

from pydantic import Field

from infra.base.config import (
    COMMIT_TAG_PATTERN,
    K8S_NAME_PATTERN,
    CronSchedule,
    Image,
    Resources,
    Strict,
)


class FeastConfig(Strict):
    """Feast on the cluster (its online store is the ``online_store`` section).

    Attributes:
        enabled: Deploy Feast (and its online store).
        image: Pinned feature-server image (serve and materialize need only the config).
        namespace: Namespace created for Feast.
        project: Feast project name.
        replicas / resources: Feature server sizing.
        materialize_schedule: Cron schedule of ``materialize-incremental`` (a Kubernetes
            CronJob's: five fields or an @ macro, infra/base/schedule.py).
        repo_image_tag: The commit whose pipeline-components image (ECR) holds the feature
            repository ``feast apply`` runs: a tag the image workflow pushes (the full commit
            SHA). Unset: no ``feast apply`` Job; the features pipeline registers the
            definitions on its first run (the feature server starts with an empty
            registry). Set it once the image workflow has pushed that commit's image.
    """

    enabled: bool = True
    image: Image = "docker.io/feastdev/feature-server:0.67.0"
    namespace: str = Field(default="feast", pattern=K8S_NAME_PATTERN)
    project: str = Field(default="platform", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    replicas: int = Field(default=1, ge=1, le=20)
    materialize_schedule: CronSchedule = "0 * * * *"
    repo_image_tag: str | None = Field(default=None, pattern=COMMIT_TAG_PATTERN)
    resources: Resources = Field(default_factory=Resources)
