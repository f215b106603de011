"""Helpers of tests/conftest.py for the pipeline tests (servers come from the platform)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _root_conftest() -> Any:
    """tests/conftest.py by path: inside tests/pipelines the name `conftest` is this
    directory's own conftest, so a plain import would find the wrong one."""
    spec = importlib.util.spec_from_file_location(
        "mlops_tests_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ROOT = _root_conftest()
free_port = _ROOT.free_port
require_service = _ROOT.require_service


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
