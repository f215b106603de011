"""The ``components.feast`` section: the feature server, materialization and ``feast apply``."""

from __future__ import annotations

from pydantic import Field, model_validator

from infra.base.config import (
    CRON_PATTERN,
    K8S_NAME_PATTERN,
    FieldProblem,
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
        materialize_schedule: Cron schedule of ``materialize-incremental``.
        repo_image_tag: Tag of the pipeline-components image (ECR) holding the feature
            repository that ``feast apply`` runs.
    """

    enabled: bool = True
    image: Image = "docker.io/feastdev/feature-server:0.67.0"
    namespace: str = Field(default="feast", pattern=K8S_NAME_PATTERN)
    project: str = Field(default="platform", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    replicas: int = Field(default=1, ge=1, le=20)
    materialize_schedule: str = Field(default="0 * * * *", pattern=CRON_PATTERN)
    repo_image_tag: str = Field(default="0.1.0", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    resources: Resources = Field(default_factory=Resources)

    @model_validator(mode="after")
    def _check(self) -> FeastConfig:
        if self.repo_image_tag == "latest":
            raise FieldProblem("repo_image_tag", "uses 'latest': pin a version")
        return self
