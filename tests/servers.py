"""Helpers of the pipeline tests (servers come from the platform)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service_helpers import free_port, postgres_database, require_service

__all__ = ["Server", "component_env", "free_port", "postgres_database", "require_service"]


@dataclass(frozen=True)
class Server:
    """An endpoint of the local platform a test talks to."""

    url: str


def component_env(platform: Any, work: Path) -> dict[str, str]:
    """`platform.env()` with a feature repo and registry of this test's own, so tests that
    apply the feature repo do not share registry state."""
    env: dict[str, str] = platform.env()
    bucket = env["MLOPS_ARTIFACT_BUCKET"]
    env["MLOPS_FEAST_REPO"] = str(work / "feast")
    env["MLOPS_FEAST_REGISTRY"] = f"s3://{bucket}/feast/{work.name}/registry.db"
    return env
