"""Fixtures for the local platform tests: real servers on free ports in a tmp state dir.

Every fixture that starts a platform stops it in its teardown (by pid files, which
signal only the process groups it started), so no server outlives the tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_helpers import make_platform, postgres_database, require_service

from mlops.local.platform import LocalPlatform


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """The default platform: SQLite for MLflow and Feast's online store."""
    p = make_platform(tmp_path_factory.mktemp("state"))
    try:
        p.up()
        yield p
    finally:
        p.down()


@pytest.fixture(scope="module")
def services_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """MLflow on a throwaway PostgreSQL database, Feast online on this machine's Redis."""
    require_service("Redis", 6379)
    with postgres_database("mlops_local") as name:
        p = make_platform(tmp_path_factory.mktemp("state-services"),
                          db_url=f"postgresql://postgres@127.0.0.1:5432/{name}",
                          redis_url="redis://127.0.0.1:6379/0")
        try:
            p.up()
            yield p
        finally:
            p.down()
