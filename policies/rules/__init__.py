"""The pack's rules, one module per area; `ALL_POLICIES` is what the pack enforces.

Importing this package has no side effects: the PolicyPack (which starts the gRPC
analyzer server) is built only in ``policies/__main__.py``, and the area modules (which
need the pack's SDK) load when `ALL_POLICIES` or `AREAS` is first asked for, so that the
SDK-free helpers here (`iam_eval`) import in any environment. Modules use relative
imports so they load both as ``rules.<area>`` (how ``pulumi preview --policy-pack`` runs
the pack) and as ``policies.rules.<area>`` (tests, offline runner).
"""

from __future__ import annotations

import importlib
from typing import Any

AREA_MODULES = {
    "storage": "storage",
    "identity": "identity",
    "access": "access",
    "teams": "teams",
    "keys": "keys",
    "logs": "logs",
    "database": "database",
    "network": "network",
    "cluster": "cluster",
    "capabilities": "capabilities",
    "reachability": "reachability",
    "webhooks": "webhooks",
    "crds": "crds",
    "workloads": "workloads",
    "serving": "serving",
    "monitoring": "monitoring",
    "ml-governance": "ml_governance",
    "tagging": "tagging",
    "coverage": "coverage",
}

__all__ = ["ALL_POLICIES", "AREAS"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    areas = {
        area: importlib.import_module(f".{module}", __name__).POLICIES
        for area, module in AREA_MODULES.items()
    }
    globals()["AREAS"] = areas
    globals()["ALL_POLICIES"] = [p for policies in areas.values() for p in policies]
    return globals()[name]
