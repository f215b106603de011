"""`mlops review --base REF`: plan diff, cost delta, the base's own code, errors, clean-up."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops.cost import load_prices
from mlops.errors import PlanError
from mlops.review import diff_plans, diff_values, plan_trees, show_value

ROOT = Path(__file__).resolve().parents[2]
MLOPS = Path(sys.executable).with_name("mlops")  # the installed console script
# what a Pulumi program needs; the `mlops` package is deliberately left out, so the
# engine can only come from this checkout and the copy holds nothing but the program
PROGRAM_PARTS = ("Pulumi.yaml", "environments", "infra", "pipelines", "mlops_runtime")
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def copy_program(dest: Path) -> None:
    listed = git(ROOT, "ls-files", "-co", "--exclude-standard").splitlines()
    for rel in listed:
        if rel.split("/")[0] in PROGRAM_PARTS and (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("repo")
    copy_program(path)
    git(path, "init", "-q", "-b", "main")
    commit_all(path, "base")
    return path


def review(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MLOPS), "review", *args], cwd=repo, capture_output=True, text=True, timeout=600
    )


def env_file(repo: Path, env: str) -> Path:
    return repo / "environments" / f"Pulumi.{env}.yaml"


def platform(doc: dict[str, Any]) -> dict[str, Any]:
    return dict(doc["config"]["mlops-platform:platform"])


def section(text: str, env: str) -> str:
    """One environment's part of the review (without the footer)."""
    return text.split(f"\n### {env}\n", 1)[1].split("\n### ", 1)[0].split("\n<sub>", 1)[0]


# make test-all: a second whole review of a real plan (the base's own plan is make test's)
@pytest.mark.long
def test_node_group_size_change_shows_exactly_that_change_and_its_cost(repo: Path) -> None:
    doc = yaml.safe_load(env_file(repo, "dev").read_text())
    group = platform(doc)["cluster"]["node_groups"]["workloads"]
    before = group["desired_size"]
    assert before + 1 <= group["max_size"], "the fixture change must stay within max_size"
    group["desired_size"] = before + 1
    env_file(repo, "dev").write_text(yaml.safe_dump(doc, sort_keys=False))
    commit_all(repo, "feat(dev): one more workloads node")

    done = review(repo, "--base", "HEAD~1", "--env", "dev")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    dev = section(out, "dev")

    assert re.search(r"^\| dev \| 0 \| 1 \| 0 \|", out, re.M)
    assert "**Added" not in dev and "**Removed" not in dev
    changed = [line for line in dev.splitlines() if line.startswith("- `")]
    assert len(changed) == 1 and f"`{NODE_GROUP}` **" in changed[0]
    paths = [line.strip() for line in dev.splitlines() if line.startswith("  - ")]
    assert [p.split(" (ignored")[0] for p in paths] == [
        f"- `inputs.scalingConfig.desiredSize`: `{before}` → `{before + 1}`"
    ]

    # the cost delta is one more node of the group's first type at its capacity type
    prices = load_prices()
    node_type = group["instance_types"][0]
    rate = prices["ec2_per_hour"][node_type]
    if group.get("capacity_type") == "SPOT":
        rate *= 1 - prices.spot_discount
    disk = group.get("disk_size_gb", 50) * prices["ebs_per_gb_month"]["gp3"]
    one_node = rate * prices.hours + disk
    delta = re.search(r"^\| dev \|.*\| \+\$([\d,.]+) \|$", out, re.M)
    assert delta is not None, out
    assert float(delta.group(1).replace(",", "")) == pytest.approx(one_node, abs=0.011)
    assert re.search(r"\*\*Monthly cost:\*\* \$[\d,.]+ → \$[\d,.]+ \(\+\$", dev)
    cost_rows = [line for line in dev.splitlines() if line.startswith("| ") and "x 730 h" in line]
    assert len(cost_rows) == 1 and node_type in cost_rows[0]

    # same trees, same bytes
    again = review(repo, "--base", "HEAD~1", "--env", "dev")
    assert again.stdout == out
    # the temporary worktree is gone
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_the_base_is_planned_with_its_own_components(tmp_path: Path) -> None:
    copy_program(tmp_path)
    git(tmp_path, "init", "-q", "-b", "main")
    commit_all(tmp_path, "base")
    source = tmp_path / "infra" / "services" / "artifact_store" / "component.py"
    text = source.read_text()
    # a literal only this component's access-log lifecycle holds: one change per bucket the
    # component builds (the artifact store and Feast's registry)
    assert text.count("noncurrent_days=1\n") == 1
    source.write_text(text.replace("noncurrent_days=1\n", "noncurrent_days=2\n"))
    commit_all(tmp_path, "change code only")

    out = review(tmp_path, "--base", "HEAD~1", "--env", "staging")
    assert out.returncode == 0, out.stderr
    assert "noncurrentDays`: `1` → `2`" in out.stdout, out.stdout
    assert "| staging | 0 | 2 | 0 |" in out.stdout
    assert "**artifacts-logs-lifecycle**" in out.stdout
    assert "**feast-registry-logs-lifecycle**" in out.stdout


def test_a_tree_whose_code_would_come_from_elsewhere_is_refused(tmp_path: Path) -> None:
    copy_program(tmp_path)
    # without its own mlops_runtime/, the program's `import mlops_runtime` would find
    # this checkout's
    shutil.rmtree(tmp_path / "mlops_runtime")
    with pytest.raises(PlanError, match=r"mlops_runtime was imported from .*, not from the tree"):
        plan_trees([("copy", tmp_path, ["dev"])])


def test_bad_ref_and_bad_env_are_one_line_exit_2(repo: Path) -> None:
    for args, needle in (
        (("--base", "no-such-ref"), "unknown git ref 'no-such-ref'"),
        (("--base", "HEAD", "--env", "qa"), "unknown environment 'qa'"),
    ):
        done = review(repo, *args)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and needle in done.stderr
        assert "Traceback" not in done.stderr
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_not_a_git_repository(tmp_path: Path) -> None:
    copy_program(tmp_path)
    done = review(tmp_path, "--base", "HEAD", "--env", "dev")
    assert done.returncode == 2 and "not inside a git repository" in done.stderr


# ---- the diff itself, on fixture plans


def plan_of(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"environment": "dev", "resources": list(resources), "outputs": {}}


def res(name: str, **inputs: Any) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:dev::p::aws:x/y:Y::{name}",
        "type": "aws:x/y:Y",
        "name": name,
        "parent": None,
        "custom": True,
        "inputs": inputs,
        "dependencies": [],
        "propertyDependencies": {},
        "protect": False,
    }


def test_diff_matches_by_urn_and_lists_leaf_paths() -> None:
    base = plan_of(
        res("kept", tags={"owner": "a", "kubernetes.io/role": "x"}, sizes=[1, 2]),
        res("gone"),
    )
    head = plan_of(
        res("kept", tags={"owner": "b", "kubernetes.io/role": "x"}, sizes=[1, 3, 4]),
        res("new"),
    )
    d = diff_plans("dev", base, head)
    assert [r["name"] for r in d.added] == ["new"]
    assert [r["name"] for r in d.removed] == ["gone"]
    (change,) = d.changed
    assert [(p, show_value(b), show_value(a)) for p, b, a in change.paths] == [
        ("inputs.sizes[1]", "2", "3"),
        ("inputs.sizes[2]", "(none)", "4"),
        ("inputs.tags.owner", '"a"', '"b"'),
    ]


def test_json_documents_are_diffed_inside_and_secrets_stay_redacted() -> None:
    before = {"policy": '{"Statement":[{"Action":"s3:GetObject","Effect":"Allow"}]}'}
    after = {"policy": '{"Statement":[{"Action":"s3:*","Effect":"Allow"}]}'}
    assert [(p, b, a) for p, b, a in diff_values(before, after, "inputs")] == [
        ("inputs.policy#/Statement/0/Action", "s3:GetObject", "s3:*")
    ]
    # a value made secret shows as the placeholder, never in clear
    ((path, _, after),) = diff_values({"password": "old"}, {"password": "[secret]"}, "inputs")
    assert (path, show_value(after)) == ("inputs.password", "[secret]")
    assert diff_values({"n": 2}, {"n": 2.0}, "inputs") == []
    assert diff_values({"n": 1}, {"n": True}, "inputs") != []


def test_protect_changes_count() -> None:
    a, b = res("db"), res("db")
    b["protect"] = True
    (change,) = diff_plans("dev", plan_of(a), plan_of(b)).changed
    assert change.paths == [("protect", False, True)]


def test_inputs_pulumi_ignores_on_update_are_marked() -> None:
    from mlops.review import EnvReview, _resources_section

    a = res("ng", scalingConfig={"desiredSize": 1, "maxSize": 3})
    b = res("ng", scalingConfig={"desiredSize": 2, "maxSize": 4})
    b["ignoreChanges"] = ["scalingConfig.desiredSize"]
    head, base = plan_of(b), plan_of(a)
    lines = _resources_section(EnvReview("dev", head, base, None, diff_plans("dev", base, head)))
    assert "  - `inputs.scalingConfig.desiredSize`: `1` → `2` (ignored on update: " in "\n".join(
        lines
    )
    assert "  - `inputs.scalingConfig.maxSize`: `3` → `4`" in lines


def test_policy_results_mark_new_violations_and_count_resolved_ones() -> None:
    from mlops.review import EnvReview, _policy_section, _summary_row

    def with_policies(plan: dict[str, Any], *violations: tuple[str, str, str]) -> dict[str, Any]:
        plan["policies"] = {
            "pack": "mlops-governance",
            "evaluated": 40,
            "violations": [
                {"policy": p, "enforcement": e, "urn": plan["resources"][0]["urn"], "message": m}
                for p, e, m in violations
            ],
        }
        return plan

    base = with_policies(
        plan_of(res("bucket")),
        ("s3-versioning", "advisory", "versioning is off"),
        ("s3-public-access-block", "mandatory", "public access is not blocked"),
    )
    head = with_policies(
        plan_of(res("bucket")),
        ("s3-versioning", "advisory", "versioning is off"),
        ("tags-required", "mandatory", "missing tag owner | cost-center"),
    )
    er = EnvReview("prod", head, base, None, diff_plans("prod", base, head))
    text = "\n".join(_policy_section(er))
    assert "1 mandatory, 1 advisory violation(s); 1 resolved by this change." in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    # mandatory first; only the violation the change introduces is new; pipes escaped
    assert rows == [
        "| **new** | mandatory | `tags-required` | bucket | missing tag owner \\| cost-center |",
        "|  | advisory | `s3-versioning` | bucket | versioning is off |",
    ]
    assert "| 1 / 1 |" in _summary_row(er)


def test_new_environments_and_unplannable_bases_are_said_plainly() -> None:
    from mlops.review import BaseRef, EnvReview, render_review

    head = plan_of(res("nat"))
    head["resources"][0]["type"] = "aws:ec2/natGateway:NatGateway"
    ref = BaseRef("origin/main", "0" * 40, "0" * 12, Path("/r"), Path("."))
    reviews = [
        EnvReview("qa", head, None, "new environment", diff_plans("qa", None, head)),
        EnvReview(
            "dev", head, None, "dev: the program failed: boom", diff_plans("dev", None, head)
        ),
    ]
    text = render_review(ref, reviews, "2025-06-01")
    qa, dev = section(text, "qa"), section(text, "dev")
    assert "New environment: not in the base." in qa and "**Added (1)**" in qa
    assert "| qa | 1 | 0 | 0 | n/a | $32.85 | n/a |" in text
    assert "The base could not be planned: dev: the program failed: boom" in dev
    assert "| dev | n/a | n/a | n/a | n/a | $32.85 | n/a |" in text


def test_the_scanners_findings_sit_beside_the_packs() -> None:
    from mlops.review import BaseRef, EnvReview, render_review
    from mlops.scan import Finding, FrameworkResult, ScanResult

    head = plan_of(res("bucket"))
    head["policies"] = {"pack": "mlops-governance", "evaluated": 3, "violations": []}
    ref = BaseRef("origin/main", "0" * 40, "0" * 12, Path("/r"), Path("."))
    failed = Finding(
        "CKV2_AWS_6", "Ensure that S3 bucket has a Public Access block", "aws_s3_bucket.bucket"
    )
    scan = ScanResult(
        checkov_version="3.3.30",
        seconds=7.0,
        exported={"dev": 1},
        unused=[],
        environments={
            "dev": {
                "terraform_plan": FrameworkResult(passed=5, failed=[failed]),
                "kubernetes": FrameworkResult(),
            }
        },
    )
    text = render_review(
        ref, [EnvReview("dev", head, head, None, diff_plans("dev", head, head))], "2025-06-01", scan
    )
    dev = section(text, "dev")
    assert dev.index("**Policies**") < dev.index("**Scanner** (checkov 3.3.30")
    assert "| terraform_plan | 1 | 5 | 0 |" in dev and "| kubernetes | 0 | 0 | 0 |" in dev
    assert (
        "| terraform_plan | `CKV2_AWS_6` | `aws_s3_bucket.bucket` | Ensure that S3 bucket "
        "has a Public Access block |"
    ) in dev
    assert "**Scanner**" not in render_review(
        ref, [EnvReview("dev", head, head, None, diff_plans("dev", head, head))], "2025-06-01"
    )


def test_a_removed_team_is_said_once_with_what_stays() -> None:
    import json

    from mlops.review import EnvReview, _resources_section

    ns = res(
        "tenant-fraud-ns",
        metadata={"name": "team-fraud", "labels": {"mlops.platform/team": "fraud"}},
    )
    ns["type"] = "kubernetes:core/v1:Namespace"

    def teams_config(purge: list[str]) -> dict[str, Any]:
        return res(
            "mlflow-teams", data={"spec.json": json.dumps({"workspaces": [], "purge": purge})}
        )

    base = plan_of(ns, teams_config([]), res("role-fraud"))
    for purge, workspace in (([], "its MLflow workspace stays"), (["fraud"], "is **deleted**")):
        head = plan_of(teams_config(purge))
        text = "\n".join(
            _resources_section(EnvReview("dev", head, base, None, diff_plans("dev", base, head)))
        )
        assert (
            "> **Team `fraud` removed**: its namespace, roles, runner and MLflow accounts go"
            in text
        )
        assert workspace in text and "its prefix `teams/fraud/` of the artifact store stays" in text
    # nothing said when no team namespace goes
    head = plan_of(ns, teams_config([]))
    text = "\n".join(
        _resources_section(EnvReview("dev", head, base, None, diff_plans("dev", base, head)))
    )
    assert "removed**" not in text
