"""The ``databases`` section: MLflow's backend store and Kubeflow Pipelines' metadata store."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infra.base import instances, versions
from infra.base.config import FieldProblem, Strict


class DatabaseConfig(Strict):
    """One RDS instance. Secure defaults: protected, snapshotted, backed up.

    Attributes:
        engine: ``postgres`` or ``mysql``.
        engine_version: Engine version: one RDS creates (infra/base/versions.yaml).
        instance_class: RDS instance class, one the instance table lists for the engine
            (infra/base/prices-us-east-1.yaml).
        allocated_storage_gb: Initial storage.
        max_allocated_storage_gb: Autoscaling ceiling (must exceed the initial size).
        multi_az: Standby in a second zone.
        backup_retention_days: Days automated backups are kept.
        deletion_protection: Refuse deletion at the AWS API.
        final_snapshot: Snapshot before deletion.
        performance_insights: Performance Insights (KMS-encrypted).
        protect: Pulumi ``protect`` on the instance, its key and its secret.
    """

    engine: Literal["postgres", "mysql"]
    engine_version: str = Field(pattern=r"^\d+(\.\d+){0,2}$")
    instance_class: str = Field(default="db.t4g.medium", pattern=r"^db\.[a-z0-9-]+\.[a-z0-9]+$")
    allocated_storage_gb: int = Field(default=20, ge=20, le=65536)
    max_allocated_storage_gb: int = Field(default=100, ge=21, le=65536)
    multi_az: bool = False
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    deletion_protection: bool = True
    final_snapshot: bool = True
    performance_insights: bool = False
    protect: bool = False

    @model_validator(mode="after")
    def _check(self) -> DatabaseConfig:
        if problem := versions.engine_problem(
            "rds", self.engine, self.engine_version, versions.plan_date()
        ):
            raise FieldProblem("engine_version", problem)
        if problem := instances.rds_problem(self.engine, self.instance_class):
            raise FieldProblem("instance_class", problem)
        # RDS refuses a storage autoscaling ceiling less than 10% above the allocated size
        # (docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html)
        least = -(-self.allocated_storage_gb * 11 // 10)  # 110%, rounded up, in integers
        if self.max_allocated_storage_gb < least:
            raise FieldProblem(
                "max_allocated_storage_gb",
                f"must exceed allocated_storage_gb ({self.allocated_storage_gb}) by at least "
                f"10% ({least}) for storage autoscaling",
            )
        if self.protect and not self.deletion_protection:
            raise FieldProblem("deletion_protection", "must be true on a protected database")
        return self


class Databases(Strict):
    """MLflow's backend store and Kubeflow Pipelines' metadata store."""

    mlflow: DatabaseConfig = Field(
        default_factory=lambda: DatabaseConfig(engine="postgres", engine_version="17.7")
    )
    kfp: DatabaseConfig = Field(
        default_factory=lambda: DatabaseConfig(engine="mysql", engine_version="8.4.8")
    )
