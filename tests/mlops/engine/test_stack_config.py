"""Stack config read the way the Pulumi CLI reads it, without the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops.engine.stack_config import (
    SECRET_PLACEHOLDER,
    available_stacks,
    load_project,
    load_stack_config,
)
from mlops.errors import UsageError


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: demo\n"
        "runtime: python\n"
        "main: program/\n"
        "stackConfigDir: stacks\n"
        "config:\n"
        "  size: {value: 3}\n"
        "  colour: {default: blue}\n"
        "  typed: {type: string}\n"
        "  aws:region: us-east-1\n"
    )
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n"
        "  demo:size: 5\n"
        "  settings: {nested: {token: {secure: v1:abc}}, plain: 1}\n"
        "  demo:password: {secure: v1:xyz}\n"
    )
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text("")
    return tmp_path


def test_project_defaults_are_namespaced_and_untyped_ones_kept(project: Path) -> None:
    p = load_project(project)
    assert (p.name, p.main, p.stack_config_dir) == ("demo", project / "program", project / "stacks")
    assert p.defaults == {"demo:size": 3, "demo:colour": "blue", "aws:region": "us-east-1"}
    assert available_stacks(p) == ["dev", "prod"]


def test_the_stack_file_overrides_and_secure_values_never_appear(project: Path) -> None:
    cfg = load_stack_config(load_project(project), "dev")
    assert cfg.values["demo:size"] == 5 and cfg.values["demo:colour"] == "blue"
    assert cfg.values["demo:password"] == SECRET_PLACEHOLDER
    assert cfg.values["demo:settings"]["nested"]["token"] == SECRET_PLACEHOLDER
    assert cfg.secret_keys == ("demo:password", "demo:settings")
    assert "v1:" not in json.dumps(cfg.values)
    # what the SDK receives: strings, objects as JSON
    assert json.loads(cfg.as_pulumi_config()["demo:settings"])["plain"] == 1
    assert cfg.as_pulumi_config()["demo:size"] == "5"


def test_an_empty_stack_file_gives_the_project_defaults(project: Path) -> None:
    cfg = load_stack_config(load_project(project), "prod")
    assert cfg.values == load_project(project).defaults and cfg.secret_keys == ()


@pytest.mark.parametrize(
    ("stack", "content", "message"),
    [
        ("qa", None, "unknown environment 'qa' (known: dev, prod)"),
        ("../x", None, "invalid environment name '../x'"),
        ("bad", "config: [1, 2", "malformed YAML (line 1)"),
        ("list", "- a\n- b\n", "expected a mapping at the top level"),
        ("cfg", "config: 3\n", "'config' must be a mapping"),
    ],
)
def test_bad_stack_files_are_one_line_usage_errors(
    project: Path, stack: str, content: str | None, message: str
) -> None:
    if content is not None:
        (project / "stacks" / f"Pulumi.{stack}.yaml").write_text(content)
    with pytest.raises(UsageError) as caught:
        load_stack_config(load_project(project), stack)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_project_file_without_a_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("runtime: python\n")
    with pytest.raises(UsageError, match="expected a mapping with a 'name'"):
        load_project(tmp_path)
    with pytest.raises(UsageError, match="file not found"):
        load_project(tmp_path / "nowhere")
