"""The KFP backend and SDK pairing: one release names both; a pin of another major.minor,
anywhere, is refused (and so is a pin that cannot be read)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.services.kfp.component import overlay_version
from infra.services.kfp.config import KfpConfig
from infra.services.kfp.release import KFP_RELEASE, major_minor
from mlops.checks import kfp_release
from mlops.checks.kfp_release import installed_sdk, kfp_release_problems
from mlops.checks.run import CHECKOUT

FILES = (
    kfp_release.OVERLAY,
    kfp_release.INVENTORY,
    kfp_release.PYPROJECT,
    kfp_release.IMAGE_REQUIREMENTS,
    *(p.relative_to(CHECKOUT).as_posix() for p in (CHECKOUT / kfp_release.COMPILED).glob("*.yaml")),
)
PAIRED = {"kfp": f"{major_minor(KFP_RELEASE)}.3", "kfp-kubernetes": None}


def checkout(tmp_path: Path) -> Path:
    for rel in FILES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CHECKOUT / rel, tmp_path / rel)
    return tmp_path


def edit(root: Path, rel: str, change: Callable[[str], str]) -> None:
    path = root / rel
    before = path.read_text()
    after = change(before)
    assert after != before, f"the test's edit of {rel} changed nothing"
    path.write_text(after)


def test_this_checkout_and_environment_pair_the_sdk_with_the_backend() -> None:
    assert kfp_release_problems(CHECKOUT) == []
    # the one name: the config's default and the overlay follow it
    assert KfpConfig().version == overlay_version() == KFP_RELEASE
    installed = installed_sdk()["kfp"]
    assert installed is not None and major_minor(installed) == major_minor(KFP_RELEASE)


def test_a_copy_of_the_checkout_passes(tmp_path: Path) -> None:
    assert kfp_release_problems(checkout(tmp_path), PAIRED) == []


NEXT = f"{KFP_RELEASE.split('.')[0]}.{int(KFP_RELEASE.split('.')[1]) + 1}"
OLD = "2.5.0"  # the backend the platform once pinned while compiling with SDK 2.17


@pytest.mark.parametrize(
    ("rel", "change", "needle"),
    [
        # the SDK moves on without the backend
        (
            kfp_release.PYPROJECT,
            lambda t: t.replace('"kfp>=2.17,', f'"kfp>={NEXT},'),
            f"pyproject.toml pins kfp {NEXT}",
        ),
        (
            kfp_release.IMAGE_REQUIREMENTS,
            lambda t: t.replace("kfp==2.17.3", f"kfp=={NEXT}.0"),
            f"pipelines/requirements.txt pins kfp {NEXT}.0",
        ),
        (
            f"{kfp_release.COMPILED}/training.yaml",
            lambda t: t.replace("sdkVersion: kfp-2.17.3", f"sdkVersion: kfp-{NEXT}.1"),
            f"training.yaml was compiled by SDK kfp {NEXT}.1",
        ),
        # the backend stays behind (the 2.5.0 under SDK 2.17), in either file
        (
            kfp_release.OVERLAY,
            lambda t: t.replace(f"ref={KFP_RELEASE}", f"ref={OLD}", 1),
            f"is not at the release {KFP_RELEASE}",
        ),
        (
            kfp_release.INVENTORY,
            lambda t: t.replace(f"?ref={KFP_RELEASE}:", f"?ref={OLD}:", 1),
            f"not the release {KFP_RELEASE}",
        ),
        (
            kfp_release.INVENTORY,
            lambda t: t.replace(f"kfp-api-server:{KFP_RELEASE}", f"kfp-api-server:{OLD}"),
            f"kfp-api-server:{OLD} is not the release",
        ),
        # a pin that cannot be read is refused, not passed
        (
            kfp_release.IMAGE_REQUIREMENTS,
            lambda t: t.replace("kfp==2.17.3\n", ""),
            "pipelines/requirements.txt: the kfp pin cannot be read",
        ),
        (
            f"{kfp_release.COMPILED}/drift.yaml",
            lambda t: t.replace("sdkVersion:", "sdk:"),
            "drift.yaml names no sdkVersion",
        ),
    ],
)
def test_a_release_other_than_the_backends_is_refused(
    tmp_path: Path, rel: str, change: Callable[[str], str], needle: str
) -> None:
    root = checkout(tmp_path)
    edit(root, rel, change)
    problems = kfp_release_problems(root, PAIRED)
    assert problems and any(needle in p for p in problems), problems


def test_an_installed_sdk_of_another_minor_is_refused(tmp_path: Path) -> None:
    (problem,) = kfp_release_problems(checkout(tmp_path), {"kfp": f"{NEXT}.0"})
    assert f"the installed kfp is {NEXT}.0, but the backend is KFP {KFP_RELEASE}" in problem


def test_every_plan_refuses_a_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`mlops plan` (and `policy check --program`) runs the pairing on every program."""
    from mlops.checks.run import refusals

    empty = {"_cwd": str(tmp_path), "resources": [], "_providers": {}}
    assert not [r for r in refusals(empty) if r.startswith("KFP release")]
    monkeypatch.setattr(kfp_release, "installed_sdk", lambda: {"kfp": f"{NEXT}.0"})
    assert any(r.startswith(f"KFP release: the installed kfp is {NEXT}.0") for r in refusals(empty))
