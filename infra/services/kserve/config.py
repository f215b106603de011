"""The ``components.kserve`` section: KServe, its serving runtimes and the served models."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infra.base.config import CLASS_NAME_PATTERN, ChartVersion, FieldProblem, Image, Strict
from mlops_runtime import teams

RuntimeName = Literal["sklearn", "mlserver", "xgboost"]


class ServedModel(Strict):
    """A registered model version served in a team namespace (the shared template).

    Attributes:
        name: InferenceService name.
        team: The team whose namespace, service account and prefix serve it.
        model_name / model_version: The registered model version.
        path: Path under the team's artifact prefix (``s3://<bucket>/teams/<team>/<path>``),
            in its ``models/`` folder: the only one the team's serving account reads.
        min_replicas / max_replicas: Predictor replicas.
    """

    name: str = Field(pattern=r"^[a-z]([a-z0-9-]{0,40}[a-z0-9])?$")
    team: str
    model_name: str = Field(min_length=1)
    model_version: str = Field(pattern=r"^\d+$")
    path: str = Field(pattern=r"^[A-Za-z0-9._/-]+$")
    min_replicas: int = Field(default=1, ge=1, le=50)
    max_replicas: int = Field(default=1, ge=1, le=100)

    @model_validator(mode="after")
    def _check(self) -> ServedModel:
        if self.max_replicas < self.min_replicas:
            raise FieldProblem("max_replicas", f"is below min_replicas ({self.min_replicas})")
        segments = self.path.split("/")
        if any(s in ("", ".", "..") for s in segments):
            raise FieldProblem(
                "path",
                f"{self.path!r} must be a relative path of named segments (no empty, '.' or "
                "'..' segment): it is appended to the team's prefix",
            )
        if segments[0] != teams.MODELS or len(segments) < 2:
            raise FieldProblem(
                "path",
                f"{self.path!r} is not under {teams.MODELS}/: the team's serving account reads "
                f"only its published models (teams/<team>/{teams.MODELS}/)",
            )
        return self


class KServeConfig(Strict):
    """KServe from its pinned charts (CRDs first), in Standard (raw Deployment) mode.

    Attributes:
        enabled: Deploy it (it needs cert-manager for its webhook).
        version: KServe version (both charts).
        repository: OCI registry of the charts.
        deployment_mode: ``Standard`` (no Knative; default) or ``Knative``.
        ingress / ingress_class: How predictors are exposed.
        runtimes: Which ClusterServingRuntimes to create.
        sklearn_image / xgboost_image / mlserver_image: Pinned runtime images.
        models: Models to serve.
    """

    enabled: bool = True
    version: ChartVersion = "v0.20.0"
    repository: str = "oci://ghcr.io/kserve/charts"
    deployment_mode: Literal["Standard", "Knative"] = "Standard"
    ingress: Literal["ingress", "gateway-api"] = "ingress"
    ingress_class: str = Field(default="alb", pattern=CLASS_NAME_PATTERN)
    runtimes: list[RuntimeName] = Field(
        default_factory=lambda: list[RuntimeName](["sklearn", "mlserver", "xgboost"])
    )
    sklearn_image: Image = "docker.io/kserve/sklearnserver:v0.20.0"
    xgboost_image: Image = "docker.io/kserve/xgbserver:v0.20.0"
    mlserver_image: Image = "docker.io/seldonio/mlserver:1.7.1"
    models: list[ServedModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> KServeConfig:
        if len(set(self.runtimes)) != len(self.runtimes):
            raise FieldProblem("runtimes", "lists a runtime twice")
        # an InferenceService is the object <team namespace>/<name>: a second entry with
        # the same team and name would be the same object
        seen: dict[tuple[str, str], int] = {}
        for i, model in enumerate(self.models):
            first = seen.setdefault((model.team, model.name), i)
            if first != i:
                raise FieldProblem(
                    f"models.{i}.name",
                    f"{model.name!r} of team {model.team!r} is already served by models.{first}",
                )
        for field in ("sklearn_image", "xgboost_image"):
            tag = getattr(self, field).rpartition(":")[2]
            if tag.startswith("v") and tag != self.version:
                raise FieldProblem(field, f"tag {tag} does not match version {self.version}")
        return self

    def images(self) -> dict[str, str]:
        """Runtime name -> its pinned image."""
        return {
            "sklearn": self.sklearn_image,
            "xgboost": self.xgboost_image,
            "mlserver": self.mlserver_image,
        }
