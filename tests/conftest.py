"""Shared fixtures.

Tests that need PostgreSQL, Redis or MariaDB on 127.0.0.1 use `require_service`:
on a laptop without them they skip; with MLOPS_REQUIRE_SERVICES=1 (set by
.ci/run) a missing service fails the test instead, so CI always exercises them.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
collect_ignore = ["policy"]  # pack rule tests need .venv-policy: `make test` runs them there


def service_reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, port: int, host: str = "127.0.0.1") -> None:
    """Skip (or fail under MLOPS_REQUIRE_SERVICES=1) when a local service is down."""
    if service_reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("MLOPS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and MLOPS_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def project_root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _forget_mlflow_tracking_uri() -> Iterator[None]:
    """mlflow.set_tracking_uri is process-wide and outlives a test's servers; a later test
    would then retry a stopped server for minutes instead of using its own."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    mlflow = sys.modules.get("mlflow")
    if mlflow is not None:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None: forget it (and the env var)
    if before is not None:
        os.environ["MLFLOW_TRACKING_URI"] = before
