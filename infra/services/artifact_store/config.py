"""The ``artifact_store`` section: the S3 bucket every service keeps its artifacts in."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infra.base.config import FieldProblem, Strict


class Transition(Strict):
    """Move current objects to a cheaper storage class after ``days``."""

    days: int = Field(ge=30)
    storage_class: Literal["STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR"] = (
        "INTELLIGENT_TIERING"
    )


class ArtifactStoreConfig(Strict):
    """The artifact bucket's lifecycle, logging and protection.

    Attributes:
        noncurrent_version_expiration_days: Days before overwritten versions are deleted.
        abort_incomplete_multipart_days: Days before unfinished multipart uploads are aborted.
        transition: Move current objects to a cheaper class; unset keeps them in STANDARD.
        access_logging: Write S3 server access logs to a dedicated log bucket.
        access_log_retention_days: Days access logs are kept.
        force_destroy: Let ``pulumi destroy`` delete a non-empty bucket (dev only).
        protect: Refuse to delete the bucket and key (prod).
    """

    noncurrent_version_expiration_days: int = Field(default=30, ge=1, le=3650)
    abort_incomplete_multipart_days: int = Field(default=7, ge=1, le=365)
    transition: Transition | None = None
    access_logging: bool = False
    access_log_retention_days: int = Field(default=90, ge=1, le=3650)
    force_destroy: bool = False
    protect: bool = False

    @model_validator(mode="after")
    def _check(self) -> ArtifactStoreConfig:
        if self.force_destroy and self.protect:
            raise FieldProblem("force_destroy", "cannot be true on a protected store")
        return self
