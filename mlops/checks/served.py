"""Custom resources inside charts and upstream manifests find their CRD first.

The pack's `k8s-kind-served` (policies/rules/crds.py) judges the objects the plan shows. A
Helm release or a kustomize Directory is one resource there, but it may create custom
resources too (cert-manager Certificates in KFP's manifests, ClusterServingRuntimes in
KServe's chart), and `pulumi up` fails the same way when no CRD serves their kind ("no
matches for kind"), or when what installs that CRD is written in parallel
(pulumi-kubernetes retries an unknown kind for about 31 s only). Their objects come from
the inventories (``upstream.py``); a CRD's kind from the pack's record of the CRDs each
chart and directory installs (``policies/rules/data/crd-sources.yaml``, which the pack's
tests check against the inventories) or, for a native CustomResourceDefinition, its spec.

A custom resource is served when a CRD of its group and kind is in the plan, and ordered
when it comes from the same release or directory (Helm installs a chart's CRDs first;
kustomize.v2 orders a directory's CRDs before its custom resources) or its resource waits
for the CRD's (dependencies and providers, transitively). Inventories list no versions,
so the version is not compared here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infra.base import yamlio
from mlops.checks.upstream import HELM, KUSTOMIZE, YAML, Inventories, walk
from mlops.paths import PACKAGE_DIR

PACK_DATA = PACKAGE_DIR.parent / "policies" / "rules" / "data"
CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")


def _record() -> dict[str, str]:
    """CRD name -> the kind it serves, for every chart and directory the pack records."""
    doc = yamlio.load((PACK_DATA / "crd-sources.yaml").read_text())
    return {
        name: crd["kind"]
        for entry in (*doc["helm"], *doc["kustomize"])
        for name, crd in entry["crds"].items()
    }


def _builtin_groups() -> set[str]:
    doc = yamlio.load((PACK_DATA / "kubernetes-apis.yaml").read_text())
    return {gv.rpartition("/")[0] for apis in doc.values() for gv in apis}


class _Waits:
    """What each planned resource waits for (dependencies, its provider), transitively."""

    def __init__(self, resources: list[dict[str, Any]], providers: dict[str, str]) -> None:
        self._direct: dict[str, set[str]] = {}
        for r in resources:
            deps = set(r.get("dependencies") or [])
            for urns in (r.get("propertyDependencies") or {}).values():
                deps |= set(urns or [])
            if providers.get(r["urn"]):
                deps.add(providers[r["urn"]].rsplit("::", 1)[0])
            self._direct[r["urn"]] = deps

    def on(self, urn: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self._direct.get(urn, ()))
        while todo:
            u = todo.pop()
            if u not in seen:
                seen.add(u)
                todo += self._direct.get(u, set()) - seen
        return seen


def served_problems(
    resources: Iterable[dict[str, Any]],
    providers: dict[str, str],
    cwd: Path,
    inventories: Inventories,
) -> list[str]:
    """One line per custom resource a chart or upstream manifest creates whose kind no CRD
    in the plan serves, or whose CRD's writer it is not ordered after."""
    resources = list(resources)
    kinds, builtin = _record(), _builtin_groups()
    problems: list[str] = []
    expanded = list(walk(resources, cwd, inventories))
    writers: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r, found in expanded:
        for key in found.keys:
            if (key.group, key.kind) != CRD:
                continue
            spec = (r.get("inputs") or {}).get("spec") or {}
            if r["type"].endswith(":CustomResourceDefinition") and isinstance(spec, dict):
                group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
            else:
                group, kind = key.name.split(".", 1)[1], kinds.get(key.name)
            if not isinstance(group, str) or not isinstance(kind, str):
                problems.append(
                    f"{r['type']} {r['name']}: which kind CRD {key.name} serves is not known "
                    "(record it in policies/rules/data/crd-sources.yaml)"
                )
                continue
            writers[(group, kind)].append(r)
    waits = _Waits(resources, providers)
    for r, found in expanded:
        if not r["type"].startswith((HELM, KUSTOMIZE, YAML)):
            continue  # a native resource: the pack's k8s-kind-served judges it
        for key in sorted(set(found.keys)):
            if key.group in builtin or (key.group, key.kind) == CRD:
                continue
            served_by = writers.get((key.group, key.kind), [])
            if not served_by:
                problems.append(
                    f"{r['type']} {r['name']} creates {key}, whose kind no CustomResource"
                    "Definition in the plan serves: `pulumi up` fails with 'no matches for "
                    "kind'; install its CRD in the same stack and order this after it"
                )
                continue
            on = waits.on(r["urn"])
            if any(w["urn"] == r["urn"] or w["urn"] in on for w in served_by):
                continue
            problems.append(
                f"{r['type']} {r['name']} creates {key}, whose CRD "
                f"{' or '.join(w['type'] + ' ' + w['name'] for w in served_by)} installs, but "
                "the plan does not order it after that (pulumi-kubernetes retries an unknown "
                "kind for about 31 s only): make it depend on what installs the CRD"
            )
    return problems
