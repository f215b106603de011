"""The KFP backend and SDK pairing: one release (``infra.services.kfp.release``) that the
overlay's refs, the inventory, the SDK pins, the compiled pipelines and the installed SDK all
follow, compared by major.minor. A pin that cannot be read is a refusal, not a pass."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

import yaml

from infra.base import yamlio
from infra.services.kfp.release import KFP_RELEASE, major_minor

RELEASE_FILE = "infra/services/kfp/release.py"
OVERLAY = "infra/services/kfp/manifests/kustomization.yaml"
INVENTORY = "infra/services/kfp/manifests/inventory.yaml"
PYPROJECT = "pyproject.toml"
IMAGE_REQUIREMENTS = "pipelines/requirements.txt"
COMPILED = "pipelines/compiled"
# the SDK packages released with the backend (kfp-kubernetes carries the platform features)
SDK_PACKAGES = ("kfp", "kfp-kubernetes")
UPSTREAM = "github.com/kubeflow/pipelines/"
REF = re.compile(r"\?ref=([^&\s]+)")
KFP_IMAGE = re.compile(r"^ghcr\.io/kubeflow/kfp-[a-z0-9-]+:(?P<tag>\S+)$")
SDK_VERSION = re.compile(r"^sdkVersion:\s*kfp-(\S+)\s*$", re.M)
# PEP 508 as the pins here write it: name, extras, comma-separated specifiers
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(?P<spec>[^;]*)")
SPECIFIER = re.compile(r"^\s*(?P<op>===|==|~=|>=|<=|!=|<|>)\s*(?P<version>\S+)\s*$")


def _requirement(line: str) -> tuple[str, list[tuple[str, str]]] | None:
    match = REQUIREMENT.match(line)
    if match is None:
        return None
    name = re.sub(r"[-_.]+", "-", match.group("name")).lower()
    specs = []
    for part in filter(None, (p.strip() for p in match.group("spec").split(","))):
        spec = SPECIFIER.match(part)
        if spec is None:
            return name, [("?", part)]
        specs.append((spec.group("op"), spec.group("version")))
    return name, specs


def installed_sdk() -> dict[str, str | None]:
    """The SDK packages installed where the check runs (None: not installed)."""
    found: dict[str, str | None] = {}
    for name in SDK_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def _differs(version: str) -> bool:
    try:
        return major_minor(version) != major_minor(KFP_RELEASE)
    except ValueError:
        return True


def _backend(root: Path) -> list[str]:
    problems = []
    try:
        resources = yamlio.load((root / OVERLAY).read_text()).get("resources") or []
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        return [f"{OVERLAY} cannot be read: {exc}"]
    refs = [(r, REF.search(r)) for r in resources if UPSTREAM in str(r)]
    if not refs:
        problems.append(f"{OVERLAY} references no kubeflow/pipelines release")
    for url, ref in refs:
        if ref is None or ref.group(1) != KFP_RELEASE:
            problems.append(
                f"{OVERLAY}: {url} is not at the release {KFP_RELEASE} ({RELEASE_FILE})"
            )
    try:
        sources = (yamlio.load((root / INVENTORY).read_text()) or {}).get("kustomize") or {}
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        return [*problems, f"{INVENTORY} cannot be read: {exc}"]
    for url, entry in sources.items():
        if UPSTREAM not in url:
            continue
        ref = REF.search(url)
        if ref is None or ref.group(1) != KFP_RELEASE:
            problems.append(
                f"{INVENTORY} lists {url}, not the release {KFP_RELEASE} ({RELEASE_FILE})"
            )
        for image in (entry or {}).get("images") or []:
            tag = KFP_IMAGE.match(str(image.get("image", "")))
            if tag and tag.group("tag") != KFP_RELEASE:
                problems.append(f"{INVENTORY}: {image['image']} is not the release {KFP_RELEASE}")
    return problems


def _sdk_pins(root: Path) -> list[tuple[str, str, str]]:
    """(where, package, version) of every SDK pin in the checkout; a pin that cannot be
    read is reported with version ''."""
    pins: list[tuple[str, str, str]] = []
    try:
        deps = tomllib.loads((root / PYPROJECT).read_text())["project"]["dependencies"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        return [(PYPROJECT, "kfp", f"?{exc}")]
    lines = [(PYPROJECT, d) for d in deps]
    try:
        lines += [
            (IMAGE_REQUIREMENTS, line.split("#", 1)[0].strip())
            for line in (root / IMAGE_REQUIREMENTS).read_text().splitlines()
        ]
    except OSError as exc:
        pins.append((IMAGE_REQUIREMENTS, "kfp", f"?{exc}"))
    seen = {(where, "kfp") for where, _, _ in pins}
    for where, line in lines:
        if not line:
            continue
        parsed = _requirement(line)
        if parsed is None or parsed[0] not in SDK_PACKAGES:
            continue
        name, specs = parsed
        seen.add((where, name))
        # the version the pin was written for: its exact or lowest admitted release
        floor = [v for op, v in specs if op in ("==", "===", "~=", ">=")]
        pins.append((where, name, floor[0] if floor else f"?no lower bound in {line!r}"))
    for where in (PYPROJECT, IMAGE_REQUIREMENTS):
        if (where, "kfp") not in seen:
            pins.append((where, "kfp", "?no kfp pin"))
    return pins


def kfp_release_problems(
    root: Path, installed: Mapping[str, str | None] | None = None
) -> list[str]:
    """Everything in the checkout (and the environment) that names a KFP release other than
    ``KFP_RELEASE``'s major.minor; one line each."""
    release = f"KFP {KFP_RELEASE} ({RELEASE_FILE})"
    problems = _backend(root)
    for where, package, version in _sdk_pins(root):
        if version.startswith("?"):
            problems.append(f"{where}: the {package} pin cannot be read: {version[1:]}")
        elif _differs(version):
            problems.append(
                f"{where} pins {package} {version}, but the backend is {release}: "
                "SDK and backend differ in major.minor"
            )
    compiled = sorted((root / COMPILED).glob("*.yaml"))
    for path in compiled:
        versions = SDK_VERSION.findall(path.read_text())
        rel = path.relative_to(root).as_posix()
        if not versions:
            problems.append(f"{rel} names no sdkVersion: its SDK cannot be paired")
        for version in versions:
            if _differs(version):
                problems.append(
                    f"{rel} was compiled by SDK kfp {version}, but the backend is {release}"
                )
    for package, found in (installed_sdk() if installed is None else installed).items():
        if found is not None and _differs(found):
            problems.append(
                f"the installed {package} is {found}, but the backend is {release}: "
                "what it compiles may not run there"
            )
    return problems
