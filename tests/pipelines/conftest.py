"""Fixtures of the pipeline tests. The platforms they run on are the session's
(`platform_sqlite`, `platform_postgres` in tests/conftest.py, from tests/servers.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from servers import component_env

if TYPE_CHECKING:
    from mlops.local.platform import LocalPlatform


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
