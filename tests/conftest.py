"""Shared fixtures.

Tests that need PostgreSQL, Redis or MariaDB on 127.0.0.1 use `service_helpers.require_service`:
on a laptop without them they skip; with MLOPS_REQUIRE_SERVICES=1 (set by
.ci/run) a missing service fails the test instead, so CI always exercises them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
collect_ignore = ["policy"]  # pack rule tests need .venv-policy: `make test` runs them there

# Feast's modules are wrapped by typeguard at import, which ast.parse-s their source. CI once
# failed that parse mid-session with CPython 3.11's "AST constructor recursion depth mismatch"
# (its AST converter keeps the recursion counter in interpreter-wide state, so concurrent or
# earlier-broken AST work elsewhere in the process can trip it). Importing Feast here, at
# collection, before any test has run, keeps that parse away from the tests' state.
# The policy venv has no Feast.
if importlib.util.find_spec("feast") is not None:
    import feast  # noqa: F401


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
