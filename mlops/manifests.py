"""Write every Kubernetes object and Helm release a plan declares, one YAML file each.

Objects come from the recorded inputs (what Pulumi would send to the API
server); names the provider would generate come from the mocked state.

The folder's layout (other tools read it: keep it this simple):

* ``DIR/<kind>--<namespace>--<name>.yaml``: one Kubernetes object per file, native
  or custom (no namespace part for cluster-scoped objects), lower case. Every file
  is a whole, valid object, so the folder can be validated or dry-run applied as a
  whole. A value Pulumi holds secret is shown as ``[secret]``; a secret map (a
  Secret's ``stringData``) keeps its keys, each value ``[secret]``.
* ``DIR/helm/<release>.yaml``: one Helm release per file (chart, repository,
  version, namespace, createNamespace, values), not a Kubernetes object.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mlops.engine.values import SECRET, SECRET_SIG, SIG_KEY

HELM_DIR = "helm"


def _redacted(value: Any) -> Any:
    """The shape of a secret value (keys, list lengths) with each leaf ``[secret]``."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _redacted(value.get("value"))
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return SECRET


def _keep_keys(shown: Any, state: Any) -> Any:
    """``shown`` (inputs, secrets as ``[secret]``) with each secret map or list given
    the shape it has in ``state`` (the same inputs, secrets wrapped), values hidden."""
    if shown == SECRET and isinstance(state, dict):
        inner = state.get("value") if state.get(SIG_KEY) == SECRET_SIG else state
        return _redacted(inner) if isinstance(inner, (dict, list)) else shown
    if isinstance(shown, dict) and isinstance(state, dict):
        return {k: _keep_keys(v, state.get(k)) for k, v in shown.items()}
    return shown


def api_version(typ: str) -> tuple[str, str]:
    """`kubernetes:apps/v1:Deployment` -> ("apps/v1", "Deployment"); core group -> "v1"."""
    _, group_version, kind = typ.split(":", 2)
    group, _, version = group_version.rpartition("/")
    return (version if group in ("core", "") else f"{group}/{version}"), kind


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-")


def kubernetes_objects(plan: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path in the folder, object) for every native/custom object and Helm release in
    the plan; a release's path is under ``helm/``."""
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
                "values": _keep_keys(inputs.get("values") or {}, state.get("values")),
            }
            out.append((f"{HELM_DIR}/{_slug(name)}.yaml", release))
            continue
        version, kind = api_version(typ)
        state = states.get(r["urn"], {}) or {}
        obj = {
            k: _keep_keys(v, state.get(k))
            for k, v in inputs.items()
            if k not in ("apiVersion", "kind")
        }
        meta = dict(obj.get("metadata") or {})
        state_meta = state.get("metadata") or {}
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
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(obj, sort_keys=True, default_flow_style=False))
        written.append(path)
    return written
