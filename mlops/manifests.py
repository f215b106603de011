"""Write every Kubernetes object and Helm release a plan declares, one YAML file each.

Objects come from the recorded inputs (what Pulumi would send to the API
server); names the provider would generate come from the mocked state.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


def api_version(typ: str) -> tuple[str, str]:
    """`kubernetes:apps/v1:Deployment` -> ("apps/v1", "Deployment"); core group -> "v1"."""
    _, group_version, kind = typ.split(":", 2)
    group, _, version = group_version.rpartition("/")
    return (version if group in ("core", "") else f"{group}/{version}"), kind


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-")


def kubernetes_objects(plan: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(file name, object) for every native/custom object and Helm release in the plan."""
    states = plan.get("_states", {})
    out: list[tuple[str, dict[str, Any]]] = []
    for r in plan["resources"]:
        typ = r["type"]
        if not r["custom"] or not typ.startswith("kubernetes:") or typ.startswith("pulumi:"):
            continue
        inputs = r["inputs"]
        if typ.startswith("kubernetes:helm.sh/"):
            state = states.get(r["urn"], {})
            name = inputs.get("name") or state.get("name") or r["name"]
            release = {
                "name": name,
                "chart": inputs.get("chart"),
                "repository": (inputs.get("repositoryOpts") or {}).get("repo"),
                "version": inputs.get("version"),
                "namespace": inputs.get("namespace") or "default",
                "createNamespace": bool(inputs.get("createNamespace", False)),
                "values": inputs.get("values") or {},
            }
            out.append((f"helm-{_slug(name)}.yaml", release))
            continue
        version, kind = api_version(typ)
        obj = {k: v for k, v in inputs.items() if k not in ("apiVersion", "kind")}
        meta = dict(obj.get("metadata") or {})
        state_meta = (states.get(r["urn"], {}) or {}).get("metadata") or {}
        meta.setdefault("name", state_meta.get("name", r["name"]))
        if "namespace" in state_meta:
            meta.setdefault("namespace", state_meta["namespace"])
        obj = {
            "apiVersion": inputs.get("apiVersion", version),
            "kind": inputs.get("kind", kind),
            **obj,
            "metadata": meta,
        }
        parts = [kind, meta.get("namespace", ""), meta["name"]]
        out.append(("--".join(_slug(p) for p in parts if p) + ".yaml", obj))
    return sorted(out, key=lambda item: item[0])


def write_manifests(plan: dict[str, Any], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, obj in kubernetes_objects(plan):
        path = directory / filename
        if path in written:
            raise ValueError(f"two objects would be written to {path}")
        path.write_text(yaml.safe_dump(obj, sort_keys=True, default_flow_style=False))
        written.append(path)
    return written
