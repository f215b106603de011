"""The ``registry`` section: ECR repositories for pipeline-component and serving images."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from infra.base.config import FieldProblem, Strict


class RegistryConfig(Strict):
    """ECR repositories for pipeline-component and serving images.

    Attributes:
        repositories: Short repository names (``<prefix>-<env>/<name>`` in ECR).
        untagged_expiry_days: Days before untagged images expire.
        force_delete: Let ``pulumi destroy`` delete repositories holding images (dev only).
    """

    repositories: list[Annotated[str, Field(pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$")]] = Field(
        default_factory=lambda: ["pipeline-components", "serving"], min_length=1
    )
    untagged_expiry_days: int = Field(default=7, ge=1, le=365)
    force_delete: bool = False

    @model_validator(mode="after")
    def _check(self) -> RegistryConfig:
        if len(set(self.repositories)) != len(self.repositories):
            raise FieldProblem("repositories", "lists a repository twice")
        return self
