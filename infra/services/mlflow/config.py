"""The ``components.mlflow`` section: the tracking server and model registry."""

from __future__ import annotations

from pydantic import Field, model_validator

from infra.base.config import K8S_NAME_PATTERN, Autoscaling, FieldProblem, Image, Resources, Strict
from infra.base.units import memory_bytes


class MlflowConfig(Strict):
    """MLflow's tracking server.

    Attributes:
        enabled: Deploy it (Kubeflow Pipelines needs it).
        image: Pinned MLflow image; it must carry psycopg and boto3 (the -full images do).
        namespace: Namespace created for the server.
        replicas / workers: Pods and server workers per pod (replicas is ignored with
            autoscaling).
        job_execution: MLflow's background job runner (extra processes, ~2 GiB).
        resources: Requests and limits of the server container.
        autoscaling: A CPU-based HorizontalPodAutoscaler.
        database_name: Database of the backend store on its RDS instance.
    """

    enabled: bool = True
    image: Image = "ghcr.io/mlflow/mlflow:v3.17.2-full"
    namespace: str = Field(default="mlflow", pattern=K8S_NAME_PATTERN)
    replicas: int = Field(default=1, ge=1, le=20)
    workers: int = Field(default=1, ge=1, le=16)
    job_execution: bool = False
    resources: Resources = Field(
        default_factory=lambda: Resources(
            cpu_request="250m", memory_request="512Mi", cpu_limit="1", memory_limit="1Gi"
        )
    )
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)
    database_name: str = Field(default="mlflow", pattern=r"^[a-z_][a-z0-9_]{0,62}$")

    @model_validator(mode="after")
    def _check(self) -> MlflowConfig:
        if self.job_execution and memory_bytes(self.resources.memory_limit) < 2 * 2**30:
            raise FieldProblem(
                "resources.memory_limit",
                f"{self.resources.memory_limit} is below 2Gi, which job_execution needs "
                "(it forks workers)",
            )
        return self
