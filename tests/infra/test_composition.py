"""Adding a service touches only what docs/architecture.md says it touches, and plans.

A copy of the project gains a toy service slice — its own folder, one field in
`infra/config.py`'s `Components`, one entry in `infra/slices.py`'s `SERVICES` — and is
planned next to the untouched copy: the plan grows by the toy's resources and nothing
else of it changes.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import textwrap
from pathlib import Path

from mlops.review import plan_trees

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ("Pulumi.yaml", "environments", "infra", "pipelines", "mlops_runtime")

TOY = {
    "__init__.py": "",
    "config.py": '''
        """The ``components.toy`` section."""

        from __future__ import annotations

        from pydantic import Field

        from infra.base.config import Strict


        class ToyConfig(Strict):
            enabled: bool = True
            greeting: str = Field(default="hello", min_length=1)
    ''',
    "component.py": '''
        """Toy: a ConfigMap that says where the platform keeps artifacts."""

        from __future__ import annotations

        from dataclasses import dataclass

        import pulumi
        import pulumi_kubernetes as k8s

        from infra.base.k8s import MANAGED_BY
        from infra.services.toy.config import ToyConfig


        @dataclass(frozen=True, kw_only=True)
        class ToyArgs:
            config: ToyConfig
            bucket: str


        class Toy(pulumi.ComponentResource):
            def __init__(self, name: str, args: ToyArgs, opts: pulumi.ResourceOptions) -> None:
                super().__init__("mlops:kubernetes:Toy", name, None, opts)
                ns = k8s.core.v1.Namespace(
                    f"{name}-ns", metadata={"name": "toy", "labels": dict(MANAGED_BY)},
                    opts=pulumi.ResourceOptions(parent=self),
                )
                k8s.core.v1.ConfigMap(
                    f"{name}-greeting",
                    metadata={"name": "greeting", "namespace": "toy"},
                    data={"greeting": args.config.greeting, "bucket": args.bucket},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[ns]),
                )
                self.register_outputs({})
    ''',
    "slice.py": '''
        """The toy service."""

        from __future__ import annotations

        from infra.platform import Platform
        from infra.services.artifact_store.component import ArtifactStore
        from infra.services.toy.component import Toy, ToyArgs


        def deploy(p: Platform) -> None:
            cfg = p.config.components.toy
            if not cfg.enabled:
                return
            artifacts = p.require("artifacts", ArtifactStore)
            p.add("toy", Toy("toy", ToyArgs(config=cfg, bucket=artifacts.name), opts=p.k8s))
    ''',
}


def copy_program(dest: Path) -> None:
    dest.mkdir()
    for part in PROGRAM:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, dest / part)


def edit(text: str, anchor: str, addition: str) -> str:
    """``addition`` right after ``anchor``, which must be there once."""
    assert text.count(anchor) == 1, f"anchor not found once: {anchor!r}"
    return text.replace(anchor, anchor + addition)


def add_toy(tree: Path) -> None:
    folder = tree / "infra" / "services" / "toy"
    folder.mkdir()
    for name, text in TOY.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip())
    config = tree / "infra" / "config.py"
    text = config.read_text()
    text = edit(
        text,
        "from infra.services.tenancy.config import TeamConfig\n",
        "from infra.services.toy.config import ToyConfig\n",
    )
    config.write_text(
        edit(
            text,
            "    ingress: IngressConfig = Field(default_factory=IngressConfig)\n",
            "    toy: ToyConfig = Field(default_factory=ToyConfig)\n",
        )
    )
    main = tree / "infra" / "slices.py"
    text = main.read_text()
    text = edit(
        text,
        "from infra.services.tenancy import slice as tenancy\n",
        "from infra.services.toy import slice as toy\n",
    )
    main.write_text(edit(text, "tenancy, kserve", ", toy"))


def changed_files(before: Path, after: Path) -> set[str]:
    changed: set[str] = set()

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        changed.update(f"{prefix}{n}" for n in cmp.diff_files + cmp.right_only + cmp.left_only)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(before, after, ignore=["__pycache__"]), "")
    return changed


def documented_places() -> set[str]:
    """The files docs/architecture.md says a new service `foo` touches (its numbered list
    under "Adding a service"; its tests aside), for the toy."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("### Adding a service", 1)[1].split("\n## ", 1)[0]
    places = re.findall(r"^\d+\. `([^`]+)`", section, re.M)
    return {p.replace("/foo/", "/toy/").rstrip("/") for p in places}


def test_a_new_service_slice_touches_three_places_and_adds_only_itself(tmp_path: Path) -> None:
    base, toy = tmp_path / "base", tmp_path / "toy"
    copy_program(base)
    copy_program(toy)
    add_toy(toy)
    assert (
        changed_files(base, toy)
        == documented_places()
        == {
            "infra/config.py",
            "infra/slices.py",
            "infra/services/toy",
        }
    )

    planned = {
        t.label: t.results["dev"]
        for t in plan_trees([("base", base, ["dev"]), ("toy", toy, ["dev"])])
    }
    assert "error" not in planned["toy"], planned["toy"]
    before = {r["urn"]: r for r in planned["base"]["plan"]["resources"]}
    after = {r["urn"]: r for r in planned["toy"]["plan"]["resources"]}
    added = {after[u]["type"]: after[u] for u in after.keys() - before.keys()}
    assert set(added) == {
        "mlops:kubernetes:Toy",
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ConfigMap",
    }
    assert before.keys() <= after.keys()
    assert all(after[u] == before[u] for u in before), "the toy changed another resource"
    greeting = added["kubernetes:core/v1:ConfigMap"]["inputs"]["data"]
    assert greeting == {"greeting": "hello", "bucket": "mlops-dev-artifacts-123456789012"}
