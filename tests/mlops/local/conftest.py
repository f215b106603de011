"""Platforms of the local platform tests' own: real servers on free ports in a tmp state dir.

Tests that only read, or work under names of their own, use the session's platforms
(`platform_sqlite`, `platform_postgres` in tests/conftest.py). The fixtures here are for
tests that stop, kill or restart servers, and for those that prepare what such a test
checks afterwards. Each stops its platform in its teardown (by pid files, which signal only
the process groups it started), so no server outlives the tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_helpers import MODEL
from servers import postgres_platform, sqlite_platform

from mlops.local.platform import LocalPlatform


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """The default platform: SQLite for MLflow and Feast's online store."""
    with sqlite_platform(tmp_path_factory.mktemp("state"), model_name=MODEL) as p:
        yield p


@pytest.fixture(scope="module")
def services_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """MLflow on a throwaway PostgreSQL database, Feast online on this machine's Redis."""
    with postgres_platform(
        tmp_path_factory.mktemp("state-services"),
        prefix="mlops_local",
        model_name=MODEL,
        redis_url="redis://127.0.0.1:6379/0",
    ) as p:
        yield p
