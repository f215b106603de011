"""Read a stack's configuration the way the Pulumi CLI does, without the CLI.

Project-level defaults come from ``config:`` in Pulumi.yaml (bare keys belong to
the project namespace; values are given as ``value:``/``default:`` or inline);
the stack file ``<stackConfigDir>/Pulumi.<stack>.yaml`` overrides them.
Values marked ``secure:`` cannot be decrypted offline; they are kept as the
placeholder "[secret]" and their keys reported as secret.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops.errors import UsageError

SECRET_PLACEHOLDER = "[secret]"
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Project:
    name: str
    root: Path
    main: Path
    stack_config_dir: Path
    defaults: dict[str, Any]


@dataclass(frozen=True)
class StackConfig:
    project: Project
    stack: str
    values: dict[str, Any]
    secret_keys: tuple[str, ...]

    def as_pulumi_config(self) -> dict[str, str]:
        """Config as the SDK receives it: strings, objects JSON-encoded."""
        return {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in self.values.items()
        }


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UsageError(f"{path}: file not found") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UsageError(f"{path}: malformed YAML{where}: {problem}") from None


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def load_project(root: Path) -> Project:
    doc = _read_yaml(root / "Pulumi.yaml")
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise UsageError(f"{root / 'Pulumi.yaml'}: expected a mapping with a 'name'")
    name = doc["name"]
    defaults: dict[str, Any] = {}
    for key, spec in (doc.get("config") or {}).items():
        if isinstance(spec, dict) and ("value" in spec or "default" in spec):
            value = spec.get("value", spec.get("default"))
        elif isinstance(spec, dict):
            continue  # a typed declaration without a default
        else:
            value = spec
        defaults[_qualify(key, name)] = value
    return Project(
        name=name,
        root=root,
        main=root / str(doc.get("main") or "."),
        stack_config_dir=root / str(doc.get("stackConfigDir") or "."),
        defaults=defaults,
    )


def available_stacks(project: Project) -> list[str]:
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in project.stack_config_dir.glob("Pulumi.*.yaml")
    )


def _redact_secure(value: Any, path: str, secret_paths: list[str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            secret_paths.append(path)
            return SECRET_PLACEHOLDER
        return {k: _redact_secure(v, f"{path}.{k}", secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_secure(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    return value


def load_stack_config(project: Project, stack: str, config_file: Path | None = None) -> StackConfig:
    """Merge project defaults with the stack file; raise UsageError naming the problem."""
    if not _STACK_NAME.match(stack):
        raise UsageError(f"invalid environment name {stack!r}")
    path = config_file or project.stack_config_dir / f"Pulumi.{stack}.yaml"
    if config_file is None and not path.is_file():
        known = ", ".join(available_stacks(project)) or "none"
        raise UsageError(f"unknown environment {stack!r} (known: {known}); no {path.name}")
    doc = _read_yaml(path)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: expected a mapping at the top level")
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise UsageError(f"{path}: 'config' must be a mapping")
    values = dict(project.defaults)
    secret_keys: list[str] = []
    for key, value in config.items():
        qualified = _qualify(str(key), project.name)
        paths: list[str] = []
        values[qualified] = _redact_secure(value, qualified, paths)
        if paths:
            secret_keys.append(qualified)
    return StackConfig(project, stack, values, tuple(sorted(secret_keys)))
