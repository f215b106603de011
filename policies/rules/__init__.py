"""The pack's rules, one module per area; `ALL_POLICIES` is what the pack enforces.

Importing this package has no side effects: the PolicyPack (which starts the gRPC
analyzer server) is built only in ``policies/__main__.py``. Modules use relative
imports so they load both as ``rules.<area>`` (how ``pulumi preview --policy-pack``
runs the pack) and as ``policies.rules.<area>`` (tests, offline runner).
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import (
    cluster,
    database,
    identity,
    ml_governance,
    network,
    serving,
    storage,
    tagging,
    workloads,
)

AREAS: dict[str, list[Policy]] = {
    "storage": storage.POLICIES,
    "identity": identity.POLICIES,
    "database": database.POLICIES,
    "network": network.POLICIES,
    "cluster": cluster.POLICIES,
    "workloads": workloads.POLICIES,
    "serving": serving.POLICIES,
    "ml-governance": ml_governance.POLICIES,
    "tagging": tagging.POLICIES,
}

ALL_POLICIES: list[Policy] = [p for policies in AREAS.values() for p in policies]

__all__ = ["ALL_POLICIES", "AREAS"]
