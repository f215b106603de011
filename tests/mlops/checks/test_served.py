"""Served kinds inside charts and upstream manifests: a custom resource a chart or a
kustomize directory creates needs a CRD in the plan, installed before it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops.checks.served import served_problems
from mlops.checks.upstream import Inventories

ROOT = Path(__file__).resolve().parents[3]
CHART = {"chart": "acme", "repository": "https://charts.acme.io", "version": "1.2.0"}
# a chart whose objects include a cert-manager Certificate (its CRD is cert-manager's)
ACME = {
    "helm": {**CHART, "release": {"name": "acme", "namespace": "tools"}, "values": {}},
    "objects": [
        {"group": "apps", "kind": "Deployment", "namespace": "tools", "name": "acme"},
        {"group": "cert-manager.io", "kind": "Certificate", "namespace": "tools", "name": "tls"},
    ],
}
# cert-manager as the platform installs it (its inventory beside the platform's slice)
CERT_MANAGER = ROOT / "infra" / "foundation" / "cert_manager" / "inventory.yaml"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::toy::{type_}::{name}"


def release(name: str, inputs: dict[str, Any], deps: Sequence[str] = ()) -> dict[str, Any]:
    type_ = "kubernetes:helm.sh/v3:Release"
    return {
        "urn": urn(type_, name),
        "type": type_,
        "name": name,
        "custom": True,
        "inputs": inputs,
        "dependencies": list(deps),
    }


def acme(deps: Sequence[str] = ()) -> dict[str, Any]:
    return release(
        "acme",
        {
            "chart": "acme",
            "version": "1.2.0",
            "repositoryOpts": {"repo": "https://charts.acme.io"},
            "name": "acme",
            "namespace": "tools",
            "values": {},
        },
        deps,
    )


def cert_manager() -> dict[str, Any]:
    doc = yaml.safe_load(CERT_MANAGER.read_text())
    values: dict[str, Any] = {}
    for dotted, value in doc["helm"]["values"].items():
        if value is None:
            continue
        node = values
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return release(
        "cert-manager",
        {
            "chart": "cert-manager",
            "version": doc["helm"]["version"],
            "repositoryOpts": {"repo": doc["helm"]["repository"]},
            "name": "cert-manager",
            "namespace": "cert-manager",
            "values": values,
        },
    )


@pytest.fixture
def inventories(tmp_path: Path) -> Inventories:
    (tmp_path / "inventory-acme.yaml").write_text(yaml.safe_dump(ACME))
    return Inventories.load([tmp_path, CERT_MANAGER.parent])


def problems(resources: list[dict[str, Any]], inventories: Inventories) -> list[str]:
    return served_problems(resources, {}, ROOT, inventories)


def test_a_charts_custom_resource_no_crd_serves_is_refused(inventories: Inventories) -> None:
    assert problems([acme()], inventories) == [
        "kubernetes:helm.sh/v3:Release acme creates Certificate.cert-manager.io tools/tls, "
        "whose kind no CustomResourceDefinition in the plan serves: `pulumi up` fails with "
        "'no matches for kind'; install its CRD in the same stack and order this after it"
    ]


def test_a_charts_custom_resource_racing_its_crd_is_refused(inventories: Inventories) -> None:
    found = problems([cert_manager(), acme()], inventories)
    assert len(found) == 1
    assert found[0].startswith(
        "kubernetes:helm.sh/v3:Release acme creates Certificate.cert-manager.io tools/tls, "
        "whose CRD kubernetes:helm.sh/v3:Release cert-manager installs, but the plan does "
        "not order it after that"
    )


def test_a_charts_custom_resource_after_its_crd_passes(inventories: Inventories) -> None:
    cm = cert_manager()
    assert problems([cm, acme([cm["urn"]])], inventories) == []


def test_ordering_through_a_provider_counts(inventories: Inventories) -> None:
    cm = cert_manager()
    provider: dict[str, Any] = {
        "urn": urn("pulumi:providers:kubernetes", "k8s"),
        "type": "pulumi:providers:kubernetes",
        "name": "k8s",
        "custom": True,
        "inputs": {},
        "dependencies": [cm["urn"]],
    }
    chart = acme()
    found = served_problems(
        [cm, provider, chart], {chart["urn"]: f"{provider['urn']}::id"}, ROOT, inventories
    )
    assert found == []


def test_a_native_crd_serves_what_its_spec_names(inventories: Inventories) -> None:
    type_ = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
    crd: dict[str, Any] = {
        "urn": urn(type_, "certificates"),
        "type": type_,
        "name": "certificates",
        "custom": True,
        "inputs": {
            "metadata": {"name": "certificates.cert-manager.io"},
            "spec": {"group": "cert-manager.io", "names": {"kind": "Certificate"}},
        },
        "dependencies": [],
    }
    assert problems([crd, acme([crd["urn"]])], inventories) == []


def test_a_crd_whose_kind_is_not_recorded_is_refused(tmp_path: Path) -> None:
    widgets = {
        "helm": {**CHART, "release": {"name": "acme", "namespace": "tools"}, "values": {}},
        "objects": [
            {
                "group": "apiextensions.k8s.io",
                "kind": "CustomResourceDefinition",
                "name": "widgets.acme.io",
            },
        ],
    }
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(widgets))
    found = problems([acme()], Inventories.load([tmp_path]))
    assert found == [
        "kubernetes:helm.sh/v3:Release acme: which kind CRD widgets.acme.io serves is not "
        "known (record it in policies/rules/data/crd-sources.yaml)"
    ]
