"""Session fixtures of the cluster tests (plans are cached in cluster_plans)."""

from __future__ import annotations

from typing import Any

import pytest
from cluster_plans import variant_plan


@pytest.fixture(scope="session")
def oidc_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return variant_plan("oidc-dynamodb", str(tmp_path_factory.mktemp("variant")))
