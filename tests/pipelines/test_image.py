"""The component image: pinned base, non-root, and the project's exact dependency pins.

Docker cannot run here, so these are the checks that can be made without building.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "pipelines" / "Dockerfile"
REQUIREMENTS = ROOT / "pipelines" / "requirements.txt"


def _requirements() -> list[Requirement]:
    lines = [line.strip() for line in REQUIREMENTS.read_text().splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith("#")]


def test_every_requirement_is_pinned_to_the_installed_version() -> None:
    for req in _requirements():
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{req} is not pinned exactly"
        installed = importlib.metadata.version(req.name)
        assert specs[0].version == installed, (
            f"{req.name}: image {specs[0].version}, project {installed}"
        )


def test_pins_satisfy_the_project_constraints() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    constraints = {canonicalize_name(r.name): r for r in map(Requirement, project["dependencies"])}
    pinned = {canonicalize_name(r.name): r for r in _requirements()}
    for name, req in pinned.items():
        if name in constraints:
            version = next(iter(req.specifier)).version
            assert constraints[name].specifier.contains(version, prereleases=True), (
                f"{name}=={version} violates pyproject's {constraints[name]}"
            )
    # What the components import directly must be in the image.
    for needed in (
        "kfp",
        "mlflow",
        "feast",
        "scikit-learn",
        "great-expectations",
        "evidently",
        "s3fs",
        "pandas",
        "pyarrow",
        "boto3",
        "skops",
    ):
        assert needed in pinned, f"{needed} missing from pipelines/requirements.txt"
    assert set(pinned[canonicalize_name("feast")].extras) >= {"redis", "aws"}


def test_dockerfile_pins_its_base_and_runs_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    assert bases, "no FROM"
    for base in bases:
        digest = "@sha256:" in base
        exact_tag = re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", base) is not None
        assert digest or exact_tag, f"base image {base} is not pinned by digest or exact tag"
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must end as a non-root user"
    assert "-r /tmp/requirements.txt" in text and "pipelines/requirements.txt" in text
    # Everything the components import from this repository is copied in, and the CLI
    # (with Pulumi and the plan engine) is not.
    copied = set(re.findall(r"^COPY\s+(\S+)/\s", text, flags=re.MULTILINE))
    assert copied == {"mlops_runtime", "pipelines"}, copied
    imported: set[str] = set()
    for path in (ROOT / "pipelines").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    first_party = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert imported & first_party <= copied, imported & first_party


def test_components_install_nothing_at_run_time() -> None:
    from mlops.pipeline_runner import pipelines

    for name in pipelines():
        spec = (ROOT / "pipelines" / "compiled" / f"{name}.yaml").read_text()
        assert "pip install" not in spec, f"{name} installs packages at run time"
        assert "image: mlops-platform/pipelines:0.1.0" in spec
