"""The ``online_store`` section: Feast's online store, ElastiCache Redis or DynamoDB."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra.base import instances, versions
from infra.base.config import FieldProblem, Strict


class RedisConfig(Strict):
    """An ElastiCache Redis replication group (TLS, AUTH token, customer key).

    Attributes:
        engine_version: Redis version.
        node_type: Cache node type, one the instance table lists
            (infra/base/prices-us-east-1.yaml).
        num_cache_clusters: Primary plus replicas.
        multi_az: Spread replicas over zones with automatic failover.
        snapshot_retention_days: Days daily snapshots are kept (0: none).
    """

    engine_version: str = Field(default="7.1", pattern=r"^\d+\.\d+$")
    node_type: str = Field(default="cache.t4g.small", pattern=r"^cache\.[a-z0-9-]+\.[a-z0-9]+$")
    num_cache_clusters: int = Field(default=2, ge=1, le=6)
    multi_az: bool = False
    snapshot_retention_days: int = Field(default=1, ge=0, le=35)

    @model_validator(mode="after")
    def _check(self) -> RedisConfig:
        if problem := versions.engine_problem(
            "elasticache", "redis", self.engine_version, versions.plan_date()
        ):
            raise FieldProblem("engine_version", problem)
        if problem := instances.elasticache_problem(self.node_type):
            raise FieldProblem("node_type", problem)
        if self.multi_az and self.num_cache_clusters < 2:
            raise FieldProblem(
                "num_cache_clusters", "must be at least 2 when multi_az is true (a replica)"
            )
        return self


class DynamoDbConfig(Strict):
    """DynamoDB tables, on demand, with point-in-time recovery and a customer key.

    Feast names its tables ``<project>.<feature view>``; they are provisioned here so
    Feast finds them and never needs ``dynamodb:CreateTable``.
    """

    tables: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,200}$")]] = Field(
        default_factory=lambda: ["platform.breast_cancer_features"], min_length=1
    )
    deletion_protection: bool = True

    @model_validator(mode="after")
    def _check(self) -> DynamoDbConfig:
        if len(set(self.tables)) != len(self.tables):
            raise FieldProblem("tables", "lists a table twice")
        return self


class OnlineStoreConfig(Strict):
    """Feast's online store: ElastiCache Redis or DynamoDB."""

    kind: Literal["redis", "dynamodb"] = "redis"
    redis: RedisConfig = Field(default_factory=RedisConfig)
    dynamodb: DynamoDbConfig = Field(default_factory=DynamoDbConfig)
