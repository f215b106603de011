"""How `pulumi up` runs a program, so the offline plan runs it the same way.

The Pulumi CLI starts a program whose ``main`` (Pulumi.yaml) is a directory with that
directory as its working directory, and one whose ``main`` is a file with the file's
directory (pulumi/pulumi, ``GetPwdMain``); ``main`` must lie inside the project. Every
relative path the program hands a provider — a kustomize directory, a YAML file, a local
Helm chart — is read by the provider against that directory. A path that only resolves
from the project root plans fine and fails at the first real `pulumi up`, so the plan
refuses it (``missing_paths``).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mlops.errors import UsageError

REMOTE_PREFIXES = ("http://", "https://", "git::", "github.com/", "oci://", "s3://", "gs://")


def program_dir(root: Path, main: Path) -> Path:
    """The working directory Pulumi gives the program."""
    resolved = main.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UsageError(f"{root / 'Pulumi.yaml'}: 'main' must be a folder inside the project")
    return resolved if resolved.is_dir() else resolved.parent


def _is_remote(path: str) -> bool:
    return path.startswith(REMOTE_PREFIXES) or "://" in path


def _local_paths(typ: str, inputs: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(field, path) of every local path a resource of this type reads."""
    if typ.startswith("kubernetes:kustomize/"):
        yield "directory", inputs.get("directory")
    elif typ in ("kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml:ConfigFile"):
        yield "file", inputs.get("file")
    elif typ in ("kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml:ConfigGroup"):
        files = inputs.get("files") or []
        for f in [files] if isinstance(files, str) else files:
            yield "files", f
    elif typ.startswith("kubernetes:helm.sh/"):
        chart = inputs.get("chart")
        repo = inputs.get("repositoryOpts") or {}
        # a chart name from a repository is not a path; without one it is a local chart
        if not (isinstance(repo, dict) and repo.get("repo")):
            yield "chart", chart


def missing_paths(resources: Iterable[Any], cwd: Path, shown: str) -> list[str]:
    """One line per local path a resource reads that does not exist from ``cwd`` (named
    ``shown`` in the message)."""
    problems = []
    for r in resources:
        for field, path in _local_paths(r.type, r.inputs):
            if not isinstance(path, str) or not path or _is_remote(path):
                continue
            full = path if os.path.isabs(path) else os.path.join(cwd, path)
            if not (glob.glob(full) if glob.has_magic(full) else os.path.exists(full)):
                problems.append(
                    f"{r.type} {r.name}: {field} '{path}' does not exist in {shown}, "
                    "the directory Pulumi runs the program in (Pulumi.yaml 'main')"
                )
    return problems
