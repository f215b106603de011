"""Fixtures of the platform's tests: the session's plans (made once, in tests/plans.py)."""

from __future__ import annotations

from typing import Any

import pytest
from plans import ENVS, Planned, planned, variant_plan


@pytest.fixture(params=ENVS)
def env(request: pytest.FixtureRequest) -> Planned:
    """Each shipped environment, planned once per test session."""
    return planned(request.param)


@pytest.fixture
def byo() -> Planned:
    return planned("byo")


@pytest.fixture
def dev() -> Planned:
    return planned("dev")


@pytest.fixture
def staging() -> Planned:
    return planned("staging")


@pytest.fixture
def prod() -> Planned:
    return planned("prod")


@pytest.fixture(scope="session")
def oidc_plan() -> dict[str, Any]:
    return variant_plan("oidc-dynamodb")
