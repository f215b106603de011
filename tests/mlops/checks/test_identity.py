"""Object identity: an object two writers create (native, kustomize, a chart, the cluster
itself) fails the plan, naming both; what the check cannot see fails it too."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from toy_programs import HEAD, UPSTREAM, refusal

from mlops.checks.identity import duplicates
from mlops.checks.upstream import Inventories, expand_kustomization
from mlops.engine.plan import plan_program

CHART = {"chart": "acme", "repository": "https://charts.acme.io", "version": "1.2.0"}
INVENTORY = {
    "kustomize": {
        UPSTREAM: {
            "objects": [
                {"group": "", "kind": "ConfigMap", "namespace": "acme", "name": "launcher"},
                {"group": "apps", "kind": "Deployment", "namespace": "acme", "name": "api"},
                {"group": "", "kind": "Namespace", "name": "acme"},
            ],
            "images": [{"image": "ghcr.io/acme/api:1.2.0", "at": "Deployment/api containers/api"}],
        }
    }
}
HELM_INVENTORY = {
    "helm": {
        **CHART,
        "release": {"name": "acme", "namespace": "tools"},
        "values": {"webhook.enabled": True, "nameOverride": None},
    },
    "objects": [
        {"group": "apps", "kind": "Deployment", "namespace": "tools", "name": "acme"},
        {"group": "", "kind": "ServiceAccount", "namespace": "tools", "name": "acme"},
    ],
    "images": ["ghcr.io/acme/acme:1.2.0"],
}


def program(root: Path, body: str, overlay: str | None = None) -> Path:
    (root / "Pulumi.yaml").write_text("name: toy\nruntime: python\n")
    (root / "__main__.py").write_text(HEAD + textwrap.dedent(body))
    (root / "inventory.yaml").write_text(yaml.safe_dump(INVENTORY))
    (root / "inventory-chart.yaml").write_text(yaml.safe_dump(HELM_INVENTORY))
    if overlay is not None:
        (root / "overlay").mkdir()
        (root / "overlay" / "kustomization.yaml").write_text(textwrap.dedent(overlay))
    return root


NATIVE_LAUNCHER = """
k8s.core.v1.ConfigMap("launcher", metadata={"name": "launcher", "namespace": "acme"},
                      data={"k": "v"}, opts=k8s_opts)
k8s.kustomize.v2.Directory("upstream", directory="overlay", opts=k8s_opts)
"""
OVERLAY = f"""
resources:
  - {UPSTREAM}
"""
DELETE_LAUNCHER = """
patches:
  - patch: |-
      $patch: delete
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: launcher}
"""


def test_an_object_written_natively_and_by_upstream_manifests_is_refused(tmp_path: Path) -> None:
    message = refusal(program(tmp_path, NATIVE_LAUNCHER, OVERLAY))
    assert message.startswith("object identity: ConfigMap acme/launcher is created by ")
    assert "kubernetes:core/v1:ConfigMap launcher" in message
    assert "kubernetes:kustomize/v2:Directory upstream" in message


def test_the_overlay_deleting_upstreams_copy_passes(tmp_path: Path) -> None:
    plan_program(program(tmp_path, NATIVE_LAUNCHER, OVERLAY + DELETE_LAUNCHER))


def test_the_overlays_namespace_renames_upstreams_objects(tmp_path: Path) -> None:
    # upstream's launcher lands in "other", where nothing else writes one
    plan_program(program(tmp_path, NATIVE_LAUNCHER, OVERLAY + "namespace: other\n"))


@pytest.mark.parametrize(
    ("overlay", "expected"),
    [
        (
            "resources:\n  - https://github.com/acme/app/manifests/base?ref=1.3.0\n",
            "resource https://github.com/acme/app/manifests/base?ref=1.3.0 has no inventory",
        ),
        (OVERLAY + "namePrefix: x-\n", "'namePrefix' may create or rename objects"),
        (
            OVERLAY + DELETE_LAUNCHER.replace("launcher", "launcher-old"),
            "the delete patch of ConfigMap launcher-old matches nothing",
        ),
        (
            OVERLAY
            + 'patches:\n  - patch: \'[{"op": "replace", "path": "/metadata/name", '
            + '"value": "y"}]\'\n    target: {kind: Deployment}\n',
            "a JSON patch changes /metadata/name",
        ),
        (
            OVERLAY
            + "replacements:\n  - source: {kind: ConfigMap, name: launcher, fieldPath: data.k}\n"
            + "    targets: [{select: {kind: Deployment}, fieldPaths: [metadata.name]}]\n",
            "a replacement sets metadata.name",
        ),
    ],
)
def test_what_the_check_cannot_follow_fails_closed(
    tmp_path: Path, overlay: str, expected: str
) -> None:
    body = 'k8s.kustomize.v2.Directory("upstream", directory="overlay", opts=k8s_opts)\n'
    message = refusal(program(tmp_path, body, overlay))
    assert "kubernetes:kustomize/v2:Directory upstream: overlay" in message
    assert expected in message


def test_inline_yaml_objects_count_too(tmp_path: Path) -> None:
    body = """
    k8s.yaml.v2.ConfigGroup("group", opts=k8s_opts,
        yaml="apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: same, namespace: x}\\n")
    k8s.core.v1.ConfigMap("same", metadata={"name": "same", "namespace": "x"}, opts=k8s_opts)
    """
    message = refusal(program(tmp_path, body))
    assert "ConfigMap x/same is created by kubernetes:core/v1:ConfigMap same" in message
    assert "again by kubernetes:yaml/v2:ConfigGroup group" in message


def test_a_remote_directory_without_inventory_is_refused(tmp_path: Path) -> None:
    body = (
        'k8s.kustomize.v2.Directory("crds", opts=k8s_opts,\n'
        '    directory="https://github.com/acme/app/manifests/crds?ref=1.2.0")\n'
    )
    assert "has no inventory" in refusal(program(tmp_path, body))


RELEASE = """
k8s.helm.v3.Release("acme", chart="acme", version="1.2.0", name="acme", namespace="tools",
    repository_opts={{"repo": "https://charts.acme.io"}}, values={values}, opts=k8s_opts)
"""


def test_a_chart_is_expanded_through_its_inventory(tmp_path: Path) -> None:
    body = RELEASE.format(values='{"webhook": {"enabled": True}}') + (
        'k8s.core.v1.ServiceAccount("sa", metadata={"name": "acme", "namespace": "tools"},'
        " opts=k8s_opts)\n"
    )
    message = refusal(program(tmp_path, body))
    assert "ServiceAccount tools/acme is created by kubernetes:core/v1:ServiceAccount sa" in message
    assert "again by kubernetes:helm.sh/v3:Release acme" in message


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            '{"webhook": {"enabled": False}}',
            "written for webhook.enabled = True, the plan sets False",
        ),
        ('{"webhook": {"enabled": True}, "nameOverride": "x"}', "nameOverride = None"),
    ],
)
def test_a_release_with_other_values_than_its_inventory_is_refused(
    tmp_path: Path, values: str, expected: str
) -> None:
    assert expected in refusal(program(tmp_path, RELEASE.format(values=values)))


def test_a_chart_without_inventory_is_refused(tmp_path: Path) -> None:
    body = RELEASE.format(values="{}").replace('version="1.2.0"', 'version="1.3.0"')
    assert "chart acme 1.3.0 has no inventory" in refusal(program(tmp_path, body))


def test_the_clusters_own_namespaces_count(tmp_path: Path) -> None:
    body = 'k8s.core.v1.Namespace("ns", metadata={"name": "kube-system"}, opts=k8s_opts)\n'
    message = refusal(program(tmp_path, body))
    assert "Namespace kube-system is created by the cluster itself and again by" in message


def test_objects_on_different_clusters_do_not_collide(tmp_path: Path) -> None:
    body = """
    other = pulumi.ResourceOptions(provider=k8s.Provider("other", kubeconfig="{}"))
    for name, opts in (("a", k8s_opts), ("b", other)):
        k8s.core.v1.ConfigMap(name, metadata={"name": "same", "namespace": "x"}, opts=opts)
    """
    plan_program(program(tmp_path, body))


def test_the_kfp_overlay_without_its_deletes_duplicates_what_the_component_writes(
    tmp_path: Path,
) -> None:
    """Today's defect: kfp-launcher written by the component and by KFP's manifests."""
    real = Path(__file__).resolve().parents[3] / "infra" / "services" / "kfp" / "manifests"
    copy = tmp_path / "services" / "kfp" / "manifests"
    shutil.copytree(real, copy)
    inventories = Inventories.load([tmp_path])
    kept = expand_kustomization(copy, inventories, "services/kfp/manifests")
    assert not kept.problems
    text = (copy / "kustomization.yaml").read_text()
    start = text.index(
        "  - patch: |-\n      $patch: delete\n      apiVersion: v1\n      kind: ConfigMap"
    )
    end = text.index("  - patch:", start + 1)
    (copy / "kustomization.yaml").write_text(text[:start] + text[end:])
    native = {
        "urn": "urn:launcher",
        "type": "kubernetes:core/v1:ConfigMap",
        "name": "kfp-launcher",
        "custom": True,
        "inputs": {"metadata": {"name": "kfp-launcher", "namespace": "kubeflow"}},
    }
    overlay = {
        "urn": "urn:upstream",
        "type": "kubernetes:kustomize/v2:Directory",
        "name": "kfp-upstream",
        "custom": False,
        "inputs": {"directory": "services/kfp/manifests"},
    }
    problems = duplicates([native, overlay], {}, tmp_path, inventories)
    assert problems == [
        "ConfigMap kubeflow/kfp-launcher is created by kubernetes:core/v1:ConfigMap kfp-launcher "
        "and again by kubernetes:kustomize/v2:Directory kfp-upstream: the second create fails "
        "(AlreadyExists); keep one writer"
    ]
