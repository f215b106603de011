"""Ways to show a plan: JSON (the contract), a rich tree, and markdown for pull requests."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from mlops.engine.plan import public


def to_json(plan: dict[str, Any]) -> str:
    """The `mlops plan --json` contract: sorted keys, so equal plans are equal bytes."""
    return json.dumps(public(plan), indent=2, sort_keys=True) + "\n"


def short_type(typ: str) -> str:
    """`aws:s3/bucketPolicy:BucketPolicy` -> `aws:s3:BucketPolicy`."""
    pkg, _, rest = typ.partition(":")
    module, _, kind = rest.rpartition(":")
    return f"{pkg}:{module.split('/')[0]}:{kind}" if module else typ


def render_tree(plan: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    resources = plan["resources"]
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    urns = {r["urn"] for r in resources}
    for r in resources:
        parent = r["parent"] if r["parent"] in urns else None
        children[parent].append(r)

    root = Tree(f"[bold]{plan['environment']}[/] — {len(resources)} resources")

    def add(node: Tree, parent: str | None) -> None:
        for r in children.get(parent, []):
            lock = " [red](protected)[/]" if r["protect"] else ""
            style = "cyan" if r["custom"] else "bold magenta"
            branch = node.add(f"[{style}]{short_type(r['type'])}[/] {r['name']}{lock}")
            add(branch, r["urn"])

    add(root, None)
    console.print(root)
    if plan.get("outputs"):
        table = Table("output", "value", title="Stack outputs")
        for key, value in sorted(plan["outputs"].items()):
            table.add_row(key, value if isinstance(value, str) else json.dumps(value))
        console.print(table)


def _component_of(resource: dict[str, Any], by_urn: dict[str, dict[str, Any]]) -> str | None:
    """The outermost `mlops:` component that contains this resource."""
    found = None
    current: dict[str, Any] | None = resource
    while current is not None:
        if current["type"].startswith("mlops:"):
            found = current["urn"]
        current = by_urn.get(current["parent"]) if current["parent"] else None
    return found


def _slug_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def mermaid_ids(components: dict[str, dict[str, Any]]) -> dict[str, str]:
    """One Mermaid node id per component: its name, or its kind and name where names are
    shared (a WorkloadIdentity `feast` beside the FeastStore `feast`: Mermaid would merge
    them into one node, and their edge into a loop), numbered if even that is shared."""
    names = Counter(c["name"] for c in components.values())
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for urn in sorted(components):
        c = components[urn]
        base = _slug_id(c["name"])
        if names[c["name"]] > 1:
            base = f"{_slug_id(c['type'].rsplit(':', 1)[-1])}_{base}"
        found, n = base, 1
        while found in taken:
            n += 1
            found = f"{base}_{n}"
        taken.add(found)
        ids[urn] = found
    return ids


def component_graph(plan: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], set[tuple[str, str]]]:
    """Top-level components and the edges `A -> B` where something in A depends on B."""
    by_urn = {r["urn"]: r for r in plan["resources"]}
    owner = {urn: _component_of(r, by_urn) for urn, r in by_urn.items()}
    components = {u: by_urn[u] for u in set(owner.values()) if u is not None}
    edges: set[tuple[str, str]] = set()
    for urn, r in by_urn.items():
        src = owner[urn]
        deps = set(r["dependencies"]).union(*r.get("propertyDependencies", {}).values())
        for dep in deps:
            dst = owner.get(dep)
            if src and dst and src != dst:
                edges.add((src, dst))
    return components, edges


def render_markdown(plan: dict[str, Any]) -> str:
    resources = plan["resources"]
    by_urn = {r["urn"]: r for r in resources}
    components, edges = component_graph(plan)
    counts = Counter(
        _component_of(r, by_urn)
        for r in resources
        if r["custom"] and not r["type"].startswith("pulumi:providers:")
    )
    lines = [
        f"### Plan for `{plan['environment']}`",
        "",
        f"{sum(1 for r in resources if r['custom'])} resources in {len(components)} components.",
        "",
        "| component | type | resources |",
        "|---|---|---:|",
    ]
    for urn in sorted(components, key=lambda u: (components[u]["type"], u)):
        c = components[urn]
        lines.append(f"| {c['name']} | `{c['type']}` | {counts.get(urn, 0)} |")
    if counts.get(None):
        lines.append(f"| (stack) | providers and top-level resources | {counts[None]} |")
    cost = plan.get("cost")
    if isinstance(cost, dict) and "monthly_usd" in cost:
        lines += ["", f"Estimated monthly cost: **${cost['monthly_usd']:,.2f}**"]
    policies = plan.get("policies")
    if isinstance(policies, dict) and "violations" in policies:
        mandatory = sum(1 for v in policies["violations"] if v["enforcement"] == "mandatory")
        lines += [
            "",
            f"Policies: {policies.get('evaluated', 0)} evaluations, "
            f"{mandatory} mandatory and {len(policies['violations']) - mandatory} advisory "
            "violation(s).",
        ]
    lines += ["", "```mermaid", "flowchart LR"]
    ids = mermaid_ids(components)
    for urn in sorted(components):
        c = components[urn]
        kind = c["type"].rsplit(":", 1)[-1]
        lines.append(f'  {ids[urn]}["{kind}<br/>{c["name"]}"]')
    for src, dst in sorted(edges):
        lines.append(f"  {ids[src]} --> {ids[dst]}")
    lines += ["```", ""]
    return "\n".join(lines)
