"""The plan runs a program where `pulumi up` would, and refuses paths that only resolve
from elsewhere (a kustomize overlay named from the project root, say)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.engine.plan import plan_program
from mlops.errors import PlanError, UsageError

PROGRAM = """
import os
import pulumi
import pulumi_kubernetes as k8s

provider = k8s.Provider("k8s", kubeconfig="{{}}")
pulumi.export("cwd", os.getcwd())
k8s.kustomize.v2.Directory(
    "overlay", directory={directory!r}, opts=pulumi.ResourceOptions(provider=provider)
)
"""


def project(root: Path, directory: str, main: str = "app/") -> Path:
    (root / "Pulumi.yaml").write_text(f"name: toy\nruntime: python\nmain: {main}\n")
    (root / "app" / "manifests").mkdir(parents=True)
    (root / "app" / "manifests" / "kustomization.yaml").write_text("resources: []\n")
    (root / "app" / "__main__.py").write_text(PROGRAM.format(directory=directory))
    return root


def test_a_directory_main_runs_in_that_directory(tmp_path: Path) -> None:
    plan = plan_program(project(tmp_path, "manifests"))
    assert Path(plan["outputs"]["cwd"]) == (tmp_path / "app").resolve()


def test_a_path_that_resolves_only_from_the_project_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as err:
        plan_program(project(tmp_path, "app/manifests"))
    message = str(err.value)
    assert "kubernetes:kustomize/v2:Directory overlay" in message
    assert "'app/manifests' does not exist in app/" in message


def test_remote_sources_are_not_local_paths(tmp_path: Path) -> None:
    # a source with an inventory (object identity needs one), never a local path
    url = (
        "https://github.com/kubeflow/pipelines/manifests/kustomize/env/cert-manager/"
        "cluster-scoped-resources?ref=2.17.0"
    )
    plan_program(project(tmp_path, url))


def test_main_outside_the_project_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "__main__.py").write_text("")
    root = tmp_path / "proj"
    root.mkdir()
    project(root, "manifests", main="../elsewhere")
    with pytest.raises(UsageError, match="'main' must be a folder inside the project"):
        plan_program(root)
