"""Shared fixtures.

Tests that need PostgreSQL, Redis or MariaDB on 127.0.0.1 use `service_helpers.require_service`:
on a laptop without them they skip; with MLOPS_REQUIRE_SERVICES=1 (set by
.ci/run) a missing service fails the test instead, so CI always exercises them.

The real servers of the session (tests/servers.py) are started here, once, the first time
a test asks for them; whole-environment plans are made once in tests/plans.py.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from servers import MlflowServer, Server, mlflow_server, postgres_platform, sqlite_platform

if TYPE_CHECKING:
    from mlops.local.platform import LocalPlatform

ROOT = Path(__file__).resolve().parent.parent
collect_ignore = ["policies"]  # pack rule tests need .venv-policy: `make test` runs them there

# Feast's modules are wrapped by typeguard at import, which ast.parse-s their source. CI once
# failed that parse mid-session with CPython 3.11's "AST constructor recursion depth mismatch"
# (its AST converter keeps the recursion counter in interpreter-wide state, so concurrent or
# earlier-broken AST work elsewhere in the process can trip it). Importing Feast here, at
# collection, before any test has run, keeps that parse away from the tests' state.
# The policy venv has no Feast.
if importlib.util.find_spec("feast") is not None:
    import feast  # noqa: F401


# Fixtures that start real servers. `make test` runs on both cores (pytest-xdist, --dist
# loadgroup): every test that uses one of them runs in the same worker, so the session's
# servers start once, not once per worker.
SERVER_FIXTURES = {
    "platform_sqlite",
    "platform_postgres",
    "server",
    "platform",
    "services_platform",
    "mlflow_teams_server",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("servers"))


def pytest_configure(config: pytest.Config) -> None:
    """Every server a test starts (in this process or in a command it runs) ends with this
    test run, however the run ends: a SIGTERM from a CI timeout, a SIGKILL."""
    from mlops.local import tether

    os.environ[tether.ENV] = str(os.getpid())


@pytest.fixture
def project_root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _forget_mlflow_tracking_uri() -> Iterator[None]:
    """mlflow.set_tracking_uri is process-wide and outlives a test's servers; a later test
    would then retry a stopped server for minutes instead of using its own."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if "mlflow" in sys.modules:
        # imported through the import lock: `mlops local up` imports MLflow on a thread of
        # its own while the servers start, and a test that ends first (a port taken) would
        # find the module half-initialised in sys.modules
        mlflow = importlib.import_module("mlflow")
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None: forget it (and the env var)
    if before is not None:
        os.environ["MLFLOW_TRACKING_URI"] = before


@pytest.fixture(scope="session")
def platform_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """The session's platform with MLflow on SQLite and Feast online on SQLite."""
    with sqlite_platform(tmp_path_factory.mktemp("platform-sqlite")) as platform:
        yield platform


@pytest.fixture(scope="session")
def platform_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """The session's platform with MLflow in a PostgreSQL database of its own (dropped
    afterwards) and Feast online on this machine's Redis."""
    with postgres_platform(tmp_path_factory.mktemp("platform-postgres")) as platform:
        yield platform


@pytest.fixture(scope="session")
def mlflow_teams_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A tracking server as the MLflow component renders it (basic-auth, workspaces,
    nothing granted by default) on SQLite; tests work under workspace and user names of
    their own."""
    with mlflow_server(tmp_path_factory.mktemp("mlflow-teams")) as server:
        yield server


@pytest.fixture(scope="session")
def s3(platform_sqlite: LocalPlatform) -> Server:
    return Server(platform_sqlite.s3_endpoint)


@pytest.fixture(scope="session")
def mlflow_sqlite(platform_sqlite: LocalPlatform) -> Server:
    return Server(platform_sqlite.mlflow_uri)


@pytest.fixture(scope="session")
def mlflow_postgres(platform_postgres: LocalPlatform) -> Server:
    return Server(platform_postgres.mlflow_uri)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> LocalPlatform:
    """The session's platform with MLflow on SQLite, or on PostgreSQL (and Feast online on
    Redis) when parametrized "postgres" (``indirect=True``)."""
    backend = getattr(request, "param", "sqlite")
    fixture = "platform_sqlite" if backend == "sqlite" else "platform_postgres"
    platform: LocalPlatform = request.getfixturevalue(fixture)
    return platform
