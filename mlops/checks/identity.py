"""Object identity: every object a stack puts in a cluster is created once.

pulumi-kubernetes refuses to create an object that exists (AlreadyExists, since #4278),
and Helm refuses to adopt one it did not create; so two writers of one group/kind/
namespace/name — a native resource, an upstream manifest applied through kustomize, a
chart, or the cluster itself — fail the first real `pulumi up`. Upstream objects come
from their inventories (``upstream.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlops.checks.upstream import Inventories, Key, walk

# every Kubernetes cluster has these before the first apply
BUILT_IN = tuple(
    Key("", "Namespace", "", n)
    for n in ("default", "kube-node-lease", "kube-public", "kube-system")
)


def duplicates(
    resources: Iterable[dict[str, Any]],
    providers: dict[str, str],
    cwd: Path,
    inventories: Inventories,
) -> list[str]:
    """One line per object two writers create, and per writer whose objects are unknown."""
    problems: list[str] = []
    writers: dict[tuple[str, Key], list[str]] = defaultdict(list)
    for r, found in walk(resources, cwd, inventories):
        problems += found.problems
        cluster = (providers.get(r["urn"]) or "default").rsplit("::", 1)[0]
        if (cluster, BUILT_IN[0]) not in writers:
            for key in BUILT_IN:
                writers[(cluster, key)].append("the cluster itself")
        for key in found.keys:
            writers[(cluster, key)].append(f"{r['type']} {r['name']}")
    for (_, key), who in sorted(writers.items()):
        if len(who) > 1:
            problems.append(
                f"{key} is created by {who[0]} and again by {who[1]}: the second create "
                "fails (AlreadyExists); keep one writer"
            )
    return problems
