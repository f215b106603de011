"""The layers of docs/architecture.md hold, and `make lint` refuses each way of breaking them.

Each case copies the project's packages, adds one import that crosses a layer, and runs
import-linter (what `make lint` runs) on the copy: the contract that names that rule
must break (others may too, through the new import's own imports).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
        "pipelines/components.py",
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
