"""The local platform (`mlops.local.platform`) for the pipeline tests.

Two platforms per session, each on free ports with state in a temporary directory and
stopped by `down()`: MLflow on SQLite with Feast online on SQLite, and MLflow on this
machine's PostgreSQL with Feast online on its Redis. SeaweedFS and the model server are
the same in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_servers import (
    Server,
    component_env,
    free_port,
    postgres_database,
    require_service,
)

from mlops.local.platform import LocalPlatform, LocalSettings


def _platform(state: Path, **settings: str) -> LocalPlatform:
    return LocalPlatform(LocalSettings(
        state_dir=state, s3_port=free_port(), mlflow_port=free_port(),
        model_port=free_port(), **settings))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def platform_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    platform = _platform(tmp_path_factory.mktemp("platform-sqlite"))
    try:
        platform.up()
        yield platform
    finally:
        platform.down()


@pytest.fixture(scope="session")
def platform_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """MLflow in a PostgreSQL database of its own (dropped afterwards), Feast on Redis."""
    require_service("Redis", 6379)
    with postgres_database() as name:
        platform = _platform(tmp_path_factory.mktemp("platform-postgres"),
                             db_url=f"postgresql://postgres@127.0.0.1:5432/{name}",
                             # A Redis database of its own, away from other users of the server.
                             redis_url="redis://127.0.0.1:6379/7")
        try:
            platform.up()
            yield platform
        finally:
            platform.down()


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
def env_sqlite(
    platform_sqlite: LocalPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The component environment, also applied to this process (for `.python_func`).

    The local state dir is left out: these tests must not swap the served model.
    """
    env = component_env(platform_sqlite, tmp_path)
    env.pop("MLOPS_LOCAL_STATE_DIR")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MLOPS_LOCAL_STATE_DIR", raising=False)
    return env
