"""The layers of docs/architecture.md hold, and `make lint` refuses each way of breaking them.

Each case copies the project's packages, adds one import that crosses a layer, and runs
import-linter (what `make lint` runs) on the copy: the contract that names that rule
must break (others may too, through the new import's own imports).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops.readme import _group, current_layers, layers_block

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("infra", "mlops", "pipelines", "mlops_runtime", "policies")


def lint(root: Path) -> tuple[int, str]:
    done = subprocess.run(
        [str(LINT), "--no-cache"], cwd=root, capture_output=True, text=True, check=False
    )
    return done.returncode, done.stdout + done.stderr


def broken(output: str) -> set[str]:
    return {
        line.removesuffix(" BROKEN").strip()
        for line in output.splitlines()
        if line.endswith(" BROKEN")
    }


def test_the_tree_keeps_every_contract() -> None:
    code, out = lint(ROOT)
    assert code == 0, out
    assert "7 kept, 0 broken" in out, out


CROSSINGS = [
    # (file that gains the import, the import, the contract that must break)
    (
        "infra/services/kserve/component.py",
        "import mlops.cli",
        "the platform never imports the command",
    ),
    (
        "pipelines/kfp_components.py",
        "from mlops.local import platform",
        "the pipelines never import the command",
    ),
    (
        "mlops_runtime/model_ops.py",
        "import pipelines.settings",
        "the runtime library imports none of the others",
    ),
    (
        "policies/rules/storage.py",
        "import infra.config",
        "the policy pack imports nothing of the project",
    ),
    (
        "infra/base/k8s.py",
        "import infra.services.mlflow.config",
        "the platform's building blocks know no slice",
    ),
    (
        "infra/foundation/cluster/slice.py",
        "import infra.services.kserve.component",
        "the foundation never reaches into a service",
    ),
    (
        "infra/services/feast/component.py",
        "from infra.platform import Platform",
        "a component is built from its args alone, never from the Platform",
    ),
]


@pytest.mark.parametrize(
    ("path", "statement", "contract"), CROSSINGS, ids=[c[2] for c in CROSSINGS]
)
def test_make_lint_refuses_a_crossing(
    tmp_path: Path, path: str, statement: str, contract: str
) -> None:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / path
    target.write_text(target.read_text() + f"\n{statement}  # scratch\n")
    code, out = lint(tmp_path)
    assert code != 0, out
    assert contract in broken(out), out


def test_the_layer_diagram_is_drawn_from_the_imports() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    assert current_layers(text) == layers_block(ROOT), "stale: run `make docs`"
    block = current_layers(text)
    nodes = re.findall(r"^  (\w+)\[", block, re.M)
    edges = re.findall(r"^  (\w+) --> (\w+)$", block, re.M)
    assert len(nodes) == len(set(nodes)) > 8
    assert edges and all(a != b for a, b in edges)
    assert {n for edge in edges for n in edge} <= set(nodes)
    # the contracts show: nothing of the platform, pipelines or pack imports the command
    platform = {"base", "foundation", "services", "composition", "pipelines", "runtime"}
    assert not [(a, b) for a, b in edges if a in platform | {"policies"} and b == "command"]


def test_a_module_outside_every_box_is_refused() -> None:
    with pytest.raises(ValueError, match=r"toolbox\.x: in no group"):
        _group("toolbox.x")


# a relative link in a Markdown file: [text](target) with no scheme and no pure anchor
LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def test_the_docs_cite_only_what_the_repo_holds() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    missing = []
    for name in tracked:
        path = ROOT / name
        if name.endswith(".md"):
            for target in LINK.findall(path.read_text()):
                if not (path.parent / target.split("#", 1)[0]).exists():
                    missing.append(f"{name}: {target}")
        if name.endswith((".py", ".md", ".toml", ".yaml", ".yml", "Makefile")) and path.is_file():
            text = path.read_text(errors="replace")
            cited = ("DESIGN" + ".md", "../" + "shared")  # the design notes live outside the repo
            missing += [f"{name}: {ref}" for ref in cited if ref in text]
    assert missing == []
