"""The pack's list of built-in Kubernetes APIs (policies/rules/data/kubernetes-apis.yaml)
is what Kubernetes' own OpenAPI documents for each minor EKS creates.

The OpenAPI documents come with kubernetes-validate (one per Kubernetes release, generated
from the release's ``api/openapi-spec``); the pack's environment does not have it, so the
list is written into the pack and this test keeps it true. Regenerate it after adding an
EKS minor to infra/base/versions.yaml::

    .venv/bin/python -m tests.mlops.test_kubernetes_apis
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "policies" / "rules" / "data" / "kubernetes-apis.yaml"
VERSIONS = ROOT / "infra" / "base" / "versions.yaml"
SCHEMAS = Path(kubernetes_validate.__file__).resolve().parent / "kubernetes-json-schema"
GA = re.compile(r"^v\d+$")
HEADER = """\
# Built-in Kubernetes APIs by minor: group/version -> the kinds of objects it serves (what a
# plan may create without a CustomResourceDefinition). Generated, do not edit: from
# Kubernetes' OpenAPI document of each release (kubernetes-validate {validate}'s copy of the
# release's api/openapi-spec), for every EKS minor infra/base/versions.yaml lists.
# Kept: definitions with an x-kubernetes-group-version-kind and ObjectMeta (objects, not
# lists or options); GA versions only, because alpha APIs are off by default and beta APIs
# added since 1.24 are too (KEP-3136), and EKS sets no --runtime-config to turn them on.
# The core group is "". Regenerate: .venv/bin/python -m tests.mlops.test_kubernetes_apis
# (tests/mlops/test_kubernetes_apis.py checks this file).
"""


def eks_minors() -> list[str]:
    doc = yaml.safe_load(VERSIONS.read_text())
    return sorted(doc["eks"], key=lambda v: tuple(int(p) for p in v.split(".")))


def served(minor: str) -> dict[str, list[str]]:
    """{"apps/v1": ["DaemonSet", ...], "v1": [...]} from the release's OpenAPI."""
    defs = json.loads((SCHEMAS / f"v{minor}.0-local" / "_definitions.json").read_text())["$defs"]
    out: dict[str, set[str]] = {}
    for schema in defs.values():
        meta = (schema.get("properties") or {}).get("metadata", {}).get("$ref", "")
        if not meta.endswith("ObjectMeta"):
            continue
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            if GA.match(gvk["version"]):
                gv = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
                out.setdefault(gv, set()).add(gvk["kind"])
    return {gv: sorted(kinds) for gv, kinds in sorted(out.items())}


def render() -> str:
    body: dict[str, Any] = {minor: served(minor) for minor in eks_minors()}
    text = yaml.safe_dump(body, sort_keys=False, default_flow_style=None, width=100)
    return HEADER.format(validate=kubernetes_validate.__version__) + text


def test_the_packs_api_list_is_kubernetes_openapi_for_every_eks_minor() -> None:
    assert DATA.read_text() == render(), (
        "policies/rules/data/kubernetes-apis.yaml is stale: "
        ".venv/bin/python -m tests.mlops.test_kubernetes_apis"
    )


def test_the_list_holds_what_every_plan_creates() -> None:
    apis = yaml.safe_load(DATA.read_text())
    for minor in eks_minors():
        assert "Deployment" in apis[minor]["apps/v1"]
        assert "ConfigMap" in apis[minor]["v1"]
        assert "CustomResourceDefinition" in apis[minor]["apiextensions.k8s.io/v1"]
        # lists, options and alpha/beta versions are not objects a plan creates
        assert "ConfigMapList" not in apis[minor]["v1"]
        assert not any("alpha" in gv or "beta" in gv for gv in apis[minor])


if __name__ == "__main__":
    DATA.write_text(render())
    print(f"wrote {DATA.relative_to(ROOT)}")
