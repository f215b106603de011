"""docs/deploy.md, the first-deploy runbook: every `mlops` command and `make` target its
code blocks name exists (each `mlops` command answers `--help` with the options used), and
the README links it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops.cli import app

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = ROOT / "docs" / "deploy.md"


def code_lines(text: str) -> list[str]:
    """The commands of the fenced code blocks, continuation lines joined."""
    blocks = re.findall(r"^ *```[a-z]*\n(.*?)^ *```", text, flags=re.S | re.M)
    lines: list[str] = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        lines += [line.strip() for line in joined.splitlines() if line.strip()]
    return lines


def invocations(text: str, tool: str) -> list[list[str]]:
    """Each call of ``tool`` (``mlops`` or ``make``, bare or as ``.venv/bin/mlops``) in the
    code blocks, as its argument list; a line may chain several with ``&&``."""
    found: list[list[str]] = []
    for line in code_lines(text):
        for part in re.split(r"&&|\|\||;", line):
            words = shlex.split(part, comments=True)
            for i, word in enumerate(words):
                if word == tool or word.endswith(f"/bin/{tool}"):
                    found.append(words[i + 1 :])
                    break
    return found


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_.-]+):(?!=)", text, flags=re.M))


def _split(args: list[str]) -> tuple[list[str], list[str]]:
    """(the subcommand path, the options) of one `mlops` call, from the CLI's own tree."""
    import typer.main

    group = typer.main.get_command(app)
    path: list[str] = []
    for word in args:
        commands = getattr(group, "commands", None)
        if commands is None or word not in commands:
            break
        path.append(word)
        group = commands[word]
    return path, [w.split("=", 1)[0] for w in args if w.startswith("--")]


def test_the_runbook_names_mlops_and_make_commands() -> None:
    text = RUNBOOK.read_text()
    assert len(invocations(text, "mlops")) >= 5
    assert invocations(text, "make")


@pytest.mark.parametrize(
    "args", invocations(RUNBOOK.read_text(), "mlops"), ids=lambda a: " ".join(a)
)
def test_every_mlops_command_exists_with_its_options(args: list[str]) -> None:
    path, options = _split(args)
    assert path, f"`mlops {' '.join(args)}`: no such command"
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    for option in options:
        assert option in result.output, f"`mlops {' '.join(path)}` has no {option}"


def test_every_make_target_exists() -> None:
    targets = make_targets()
    for args in invocations(RUNBOOK.read_text(), "make"):
        named = [a for a in args if not a.startswith("-") and "=" not in a]
        assert named, args
        for target in named:
            assert target in targets, f"make {target}: no such target in the Makefile"


def test_a_missing_command_or_target_is_caught() -> None:
    text = "```bash\n.venv/bin/mlops deploy dev && make bootstrap\nmlops plan dev --fast\n```\n"
    bad, plan = invocations(text, "mlops")
    assert _split(bad)[0] == []
    assert _split(plan) == (["plan"], ["--fast"])
    assert "--fast" not in CliRunner().invoke(app, ["plan", "--help"]).output
    assert "bootstrap" not in make_targets()
    assert invocations(text, "make") == [["bootstrap"]]


def test_the_readme_links_the_runbook() -> None:
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text()
