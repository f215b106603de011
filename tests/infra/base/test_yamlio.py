"""The fast YAML loader reads what yaml.safe_load reads, and is as safe."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.base import yamlio

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted(
    p
    for pattern in ("infra/**/*.yaml", "environments/*.yaml", ".github/workflows/*.yml")
    for p in ROOT.glob(pattern)
)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_every_yaml_file_of_the_project_reads_as_safe_load_reads_it(path: Path) -> None:
    text = path.read_text()
    assert list(yamlio.load_all(text)) == list(yaml.safe_load_all(text))


def test_python_tags_are_refused_as_safe_load_refuses_them() -> None:
    with pytest.raises(yaml.YAMLError):
        yamlio.load("!!python/object/apply:os.system ['true']")
