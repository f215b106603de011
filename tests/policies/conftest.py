"""Rule tests run in the pack's venv (.venv-policy); elsewhere the directory is skipped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `policies` is imported from the checkout, not installed

try:
    import pulumi_policy  # noqa: F401
except ImportError:  # the main venv: run these with `make test` (.venv-policy)
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(autouse=True)
def _no_grpc_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if a test ever builds the PolicyPack (it would block on its server)."""
    import pulumi_policy

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("PolicyPack must only be built in policies/__main__.py")

    monkeypatch.setattr(pulumi_policy.PolicyPack, "__init__", refuse)
