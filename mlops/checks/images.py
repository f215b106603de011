"""The image rule (policies/rules/images.py) where the pack cannot look: the images the
upstream manifests and charts run (from their inventories, after the overlays' image
patches), and the facts the rule takes from the image workflow — which repositories it
pushes and with which tag."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from infra.base import yamlio
from mlops.checks.upstream import Inventories, walk
from policies.rules.images import OWN_REPOSITORIES, image_problem

WORKFLOW = Path(".github") / "workflows" / "image.yml"
PUSHED_TAG_EXPRESSION = re.compile(r"^\$\{\{\s*github\.sha\s*\}\}$")


def workflow_problems(root: Path) -> list[str]:
    """The workflow must still push every own repository tagged with the commit SHA."""
    path = root / WORKFLOW
    if not path.is_file():
        return [f"{WORKFLOW} is missing: nothing pushes the platform's own images"]
    try:
        doc = yamlio.load(path.read_text())
    except yaml.YAMLError as exc:
        return [f"{WORKFLOW}: not YAML ({str(exc).splitlines()[0]})"]
    pushes: list[tuple[str, str]] = []
    for job in (doc.get("jobs") or {}).values():
        env = (job or {}).get("env") or {}
        if "REPOSITORY" in env:
            pushes.append((str(env["REPOSITORY"]), str(env.get("TAG", ""))))
    problems = []
    for repo in OWN_REPOSITORIES:
        tags = [tag for pushed, tag in pushes if pushed.endswith(f"/{repo}")]
        if not tags:
            problems.append(f"{WORKFLOW} pushes no '{repo}' image (env REPOSITORY of a job)")
        elif not all(PUSHED_TAG_EXPRESSION.match(t) for t in tags):
            problems.append(
                f"{WORKFLOW} tags '{repo}' with {tags[0]!r}, not the commit SHA the image rule "
                "admits (policies/rules/images.py)"
            )
    return problems


def upstream_image_problems(
    resources: Iterable[dict[str, Any]], cwd: Path, inventories: Inventories
) -> list[str]:
    problems = []
    for r, found in walk(resources, cwd, inventories):
        for image in found.images:
            if problem := image_problem(image.image):
                where = f" at {image.at}" if image.at else ""
                problems.append(f"{r['type']} {r['name']}{where}: {problem}")
    return problems
