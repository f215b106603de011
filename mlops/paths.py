"""Where the project lives, so the CLI works from any directory inside a checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root(start: Path | None = None) -> Path:
    """Nearest directory with Pulumi.yaml and infra/: from cwd upwards, else the package's."""
    for base in ((start or Path.cwd()).resolve(), PACKAGE_DIR.parent):
        for candidate in (base, *base.parents):
            if (candidate / "Pulumi.yaml").is_file() and (candidate / "infra").is_dir():
                return candidate
    return PACKAGE_DIR.parent
