"""Markdown, Mermaid, the README's embedded plan and `--manifests`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml
from plans import planned

from mlops.engine.plan import plan_program
from mlops.engine.values import SECRET_SIG, SIG_KEY
from mlops.manifests import _keep_keys, api_version, kubernetes_objects, write_manifests
from mlops.readme import current_block, expected_block
from mlops.render import component_graph, mermaid_ids, render_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_readme_embeds_the_current_prod_plan() -> None:
    text = (ROOT / "README.md").read_text()
    assert current_block(text) == expected_block(ROOT), "README is stale: run `make docs`"


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text().split("\n## ")[0]
    assert "make demo" in head and "make test" in head


def test_markdown_has_a_table_and_a_mermaid_graph_of_components() -> None:
    plan = planned("prod").plan
    text = render_markdown(plan)
    components, edges = component_graph(plan)
    assert "| component | type | resources |" in text
    assert "```mermaid\nflowchart LR" in text
    for urn in components:
        assert components[urn]["name"] in text
    for src, dst in edges:
        assert src != dst


def mermaid_graph(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(node ids in declaration order, edges) of the Mermaid block in ``text``."""
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    nodes = re.findall(r"^  (\w+)\[", block, re.M)
    edges = re.findall(r"^  (\w+) --> (\w+)$", block, re.M)
    return nodes, edges


def test_the_readme_diagram_has_unique_ids_and_no_self_loops() -> None:
    for text in (render_markdown(planned("prod").plan), (ROOT / "README.md").read_text()):
        nodes, edges = mermaid_graph(text)
        assert len(nodes) > 10 and edges
        assert len(nodes) == len(set(nodes)), sorted(n for n in nodes if nodes.count(n) > 1)
        assert [(a, b) for a, b in edges if a == b] == []
        assert {n for edge in edges for n in edge} <= set(nodes)


def test_components_sharing_a_name_get_distinct_ids() -> None:
    components = {
        "urn:a": {"name": "feast", "type": "mlops:identity:WorkloadIdentity"},
        "urn:b": {"name": "feast", "type": "mlops:feast:FeastStore"},
        "urn:c": {"name": "feast", "type": "mlops:feast:FeastStore"},
        "urn:d": {"name": "cert-manager", "type": "mlops:cert:CertManager"},
    }
    assert mermaid_ids(components) == {
        "urn:a": "WorkloadIdentity_feast",
        "urn:b": "FeastStore_feast",
        "urn:c": "FeastStore_feast_2",
        "urn:d": "cert_manager",
    }


def test_api_version_from_type_tokens() -> None:
    assert api_version("kubernetes:core/v1:Namespace") == ("v1", "Namespace")
    assert api_version("kubernetes:apps/v1:Deployment") == ("apps/v1", "Deployment")
    assert api_version("kubernetes:serving.kserve.io/v1beta1:InferenceService") == (
        "serving.kserve.io/v1beta1",
        "InferenceService",
    )


def test_manifests_hold_objects_and_helm_releases(tmp_path: Path) -> None:
    plan = plan_program(ROOT / "tests" / "fixtures" / "programs" / "k8s")
    written = write_manifests(plan, tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert names == [
        "helm/cert-manager.yaml",
        "namespace--team-a.yaml",
        "secret--team-a--token-8a2c97f3.yaml",
    ]
    ns = yaml.safe_load((tmp_path / "namespace--team-a.yaml").read_text())
    assert ns == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "team-a",
            "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
        },
    }
    release = yaml.safe_load((tmp_path / "helm" / "cert-manager.yaml").read_text())
    assert release["chart"] == "cert-manager" and release["version"] == "v1.19.1"
    assert release["repository"] == "https://charts.jetstack.io"
    assert release["namespace"] == "cert-manager"
    assert release["values"] == {
        "crds": {"enabled": True},
        "prometheus": {"enabled": True, "servicemonitor": {"enabled": False}},
    }
    secret = yaml.safe_load((tmp_path / "secret--team-a--token-8a2c97f3.yaml").read_text())
    # a valid Secret: its keys kept, never their values
    assert secret["stringData"] == {"token": "[secret]"}


def test_a_secret_map_keeps_its_shape_never_its_values() -> None:
    held = {"password": "hunter2", "tls": {"key": "k3y"}, "hosts": ["a", "b"]}
    wrapped = {SIG_KEY: SECRET_SIG, "value": held}
    shown = {"type": "Opaque", "stringData": "[secret]", "metadata": {"name": "s"}}
    state = {"type": "Opaque", "stringData": wrapped, "metadata": {"name": "s"}}
    assert _keep_keys(shown, state) == {
        "type": "Opaque",
        "stringData": {
            "password": "[secret]",
            "tls": {"key": "[secret]"},
            "hosts": ["[secret]", "[secret]"],
        },
        "metadata": {"name": "s"},
    }
    # a secret string stays a string; a value shown as is stays as shown
    assert _keep_keys("[secret]", {SIG_KEY: SECRET_SIG, "value": "hunter2"}) == "[secret]"
    assert _keep_keys({"a": "x"}, {"a": wrapped}) == {"a": "x"}


def test_cli_writes_manifests_for_an_environment(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mlops.cli", "plan", "prod", "--manifests", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    expected = {name for name, _ in kubernetes_objects(planned("prod").plan)}
    found = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.yaml")}
    assert found == expected
    assert {p.name for p in tmp_path.iterdir() if p.is_dir()} == {"helm"}
