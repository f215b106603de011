"""The image rule where the pack cannot look: upstream manifests' and charts' images (after
the overlay's patches), and the image workflow the rule takes its facts from."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from toy_programs import HEAD, UPSTREAM, refusal

from mlops.checks.images import workflow_problems
from mlops.engine.plan import plan_program

ROOT = Path(__file__).resolve().parents[3]
INVENTORY = {
    "kustomize": {
        UPSTREAM: {
            "objects": [
                {"group": "apps", "kind": "Deployment", "namespace": "acme", "name": "api"},
                {"group": "apps", "kind": "Deployment", "namespace": "acme", "name": "old"},
                {"group": "", "kind": "ConfigMap", "namespace": "acme", "name": "config"},
            ],
            "images": [
                {"image": "ghcr.io/acme/api:1.2.0", "at": "Deployment/api containers/api"},
                {"image": "ghcr.io/acme/old:latest", "at": "Deployment/old containers/main"},
                {"image": "ghcr.io/containerd/busybox", "at": "ConfigMap/config data/cacheImage"},
            ],
        }
    }
}
DELETE_OLD = """
  - patch: |-
      $patch: delete
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: old}
"""
PIN_CACHE = """
  - patch: |-
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: config}
      data: {cacheImage: "docker.io/library/busybox:1.37.0"}
"""


def program(root: Path, patches: str, extra: str = "") -> Path:
    root.mkdir(exist_ok=True)
    (root / "Pulumi.yaml").write_text("name: toy\nruntime: python\n")
    (root / "__main__.py").write_text(
        HEAD + 'k8s.kustomize.v2.Directory("upstream", directory="overlay", opts=k8s_opts)\n'
    )
    (root / "inventory.yaml").write_text(yaml.safe_dump(INVENTORY))
    (root / "overlay").mkdir()
    (root / "overlay" / "kustomization.yaml").write_text(
        f"resources:\n  - {UPSTREAM}\npatches:\n{patches}{textwrap.dedent(extra)}"
    )
    return root


def test_an_upstream_image_that_floats_is_refused_where_it_is_set(tmp_path: Path) -> None:
    message = refusal(program(tmp_path, DELETE_OLD))
    assert message == (
        "image rule: kubernetes:kustomize/v2:Directory upstream at ConfigMap/config "
        "data/cacheImage: image 'ghcr.io/containerd/busybox' has no tag"
    )


def test_the_overlay_pinning_it_and_deleting_the_rest_passes(tmp_path: Path) -> None:
    plan_program(program(tmp_path, DELETE_OLD + PIN_CACHE))


def test_a_deleted_object_runs_no_image_but_a_kept_one_does(tmp_path: Path) -> None:
    assert "ghcr.io/acme/old:latest" in refusal(program(tmp_path, PIN_CACHE))


def test_kustomize_images_field_pins_containers_only(tmp_path: Path) -> None:
    extra = """
    images:
      - {name: ghcr.io/acme/old, newTag: 1.2.0}
      - {name: ghcr.io/containerd/busybox, newTag: 1.36.1}
    """
    # the transformer sets containers' images: the old Deployment is pinned, the
    # ConfigMap's cacheImage is data it never touches
    message = refusal(program(tmp_path, "  []\n", extra))
    assert "ConfigMap/config data/cacheImage" in message
    plan_program(program(tmp_path / "pinned", PIN_CACHE, extra))


def test_the_image_workflow_pushes_what_the_rule_admits() -> None:
    assert workflow_problems(ROOT) == []


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("v${{ github.run_number }}", "not the commit SHA the image rule admits"),
        (None, "pushes no 'pipeline-components' image"),
    ],
)
def test_a_workflow_pushing_other_tags_is_refused(
    tmp_path: Path, tag: str | None, expected: str
) -> None:
    doc = yaml.safe_load((ROOT / ".github/workflows/image.yml").read_text())
    for job in doc["jobs"].values():
        if tag is None:
            job.get("env", {}).pop("REPOSITORY", None)
        else:
            job.setdefault("env", {})["TAG"] = tag
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/image.yml").write_text(yaml.safe_dump(doc))
    assert any(expected in p for p in workflow_problems(tmp_path))
    assert workflow_problems(tmp_path / "nowhere") == [
        ".github/workflows/image.yml is missing: nothing pushes the platform's own images"
    ]
