"""The GitHub Actions workflows: jobs, order, commands, pins and permissions."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
SETUP_ACTION = ROOT / ".github" / "actions" / "setup" / "action.yml"
ENVS = sorted(p.name.split(".")[1] for p in (ROOT / "environments").glob("Pulumi.*.yaml"))
OIDC_ACTION = "aws-actions/configure-aws-credentials@"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(doc, dict)
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps(job))


def uses(job: dict[str, Any]) -> list[str]:
    return [str(s["uses"]) for s in steps(job) if "uses" in s]


def all_workflows() -> dict[str, dict[str, Any]]:
    return {p.name: load(p.name) for p in sorted(WORKFLOWS.glob("*.yml"))}


def test_the_four_workflows_exist() -> None:
    assert {"pr.yml", "image.yml", "deploy.yml", "retrain.yml"} <= set(all_workflows())


@pytest.mark.parametrize("name", ["pr.yml", "image.yml", "deploy.yml", "retrain.yml"])
def test_least_privilege_and_oidc_only_where_used(name: str) -> None:
    doc = load(name)
    assert doc["permissions"] == {"contents": "read"}, "the default token is read-only"
    for job_name, job in doc["jobs"].items():
        perms = job.get("permissions", {})
        assumes_role = any(u.startswith(OIDC_ACTION) for u in uses(job))
        assert (perms.get("id-token") == "write") == assumes_role, job_name
        writes = {k for k, v in perms.items() if v == "write"} - {"id-token"}
        assert writes <= {"pull-requests"}, f"{job_name} asks for {writes}"
        if assumes_role:
            (step,) = [s for s in steps(job) if str(s.get("uses", "")).startswith(OIDC_ACTION)]
            assert str(step["with"]["role-to-assume"]).startswith("${{ vars")


def test_third_party_actions_are_pinned_to_commits() -> None:
    texts = [*(p.read_text() for p in WORKFLOWS.glob("*.yml")), SETUP_ACTION.read_text()]
    found = [m for text in texts for m in re.findall(r"uses:\s*(\S+)", text)]
    assert found
    for ref in found:
        if not ref.startswith("./"):
            assert PINNED.match(ref), f"{ref} is not pinned to a full commit SHA"
    for doc in all_workflows().values():
        for job in doc["jobs"].values():
            for service in (job.get("services") or {}).values():
                image = str(service["image"])
                assert ":" in image and not image.endswith(":latest"), image


def test_secrets_reach_commands_only_through_env() -> None:
    for name, doc in all_workflows().items():
        for job in doc["jobs"].values():
            for step in steps(job):
                script = str(step.get("run", ""))
                assert "secrets." not in script, f"{name}: a secret is expanded into a script"
                assert "set -x" not in script, f"{name}: tracing would print credentials"


def test_pr_lints_tests_reviews_and_previews_with_the_policy_pack() -> None:
    doc = load("pr.yml")
    assert "pull_request" in doc["on"]
    jobs = doc["jobs"]
    assert "make lint" in runs(jobs["lint"])
    assert "make test" in runs(jobs["test"])
    assert jobs["test"]["env"]["MLOPS_REQUIRE_SERVICES"] == "1"
    assert {"postgres", "redis"} <= set(jobs["test"]["services"])

    plan = jobs["policy-plan"]
    assert sorted(plan["strategy"]["matrix"]["env"]) == ENVS
    assert 'mlops policy check "$STACK" --payload-out "policy-input-${STACK}.json"' in runs(plan)

    review = jobs["review"]
    checkout = steps(review)[0]
    assert checkout["with"]["fetch-depth"] == 0  # the base ref must be in the clone
    script = runs(review)
    assert 'mlops review --base "origin/${BASE_REF}" --scan' in script
    assert "make venv-scan" in script

    scan = runs(jobs["scan"])
    assert "make venv-scan" in scan and "mlops scan dev staging prod" in scan
    (env_step,) = [s for s in steps(review) if "mlops review" in str(s.get("run", ""))]
    assert env_step["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert "gh pr comment" in script and "--body-file review.md" in script
    assert review["permissions"]["pull-requests"] == "write"

    preview = jobs["preview"]
    assert preview["if"] == "vars.AWS_ROLE_ARN != ''"
    assert sorted(preview["strategy"]["matrix"]["env"]) == ENVS
    oidc = next(s for s in steps(preview) if str(s.get("uses", "")).startswith(OIDC_ACTION))
    assert oidc["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    command = " ".join(runs(preview).split())
    assert 'pulumi preview --stack "$STACK"' in command
    # the base branch's pack and config (a sparse checkout of it), never the PR's own
    assert (
        '--policy-pack .gate/policies --policy-pack-config ".gate/policies/config/${STACK}.json"'
    ) in command
    (gate,) = [s for s in steps(preview) if s.get("with", {}).get("path") == ".gate"]
    assert gate["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert "make -C .gate venv-policy" in runs(preview)
    (step,) = [s for s in steps(preview) if "pulumi preview" in str(s.get("run", ""))]
    assert step["env"]["STACK"] == "${{ matrix.env }}"


def test_pr_policy_gate_judges_with_the_base_branch_pack_and_never_runs_the_pr() -> None:
    """The change under review cannot edit the gate: the `policy` job checks out only the
    base branch, builds its pack's environment, and evaluates the plan file the
    `policy-plan` job wrote with the base branch's pack and pack config."""
    jobs = load("pr.yml")["jobs"]
    gate = jobs["policy"]
    assert sorted(gate["strategy"]["matrix"]["env"]) == ENVS
    assert gate["needs"] == ["policy-plan"]
    assert gate["if"] == "${{ !cancelled() }}"  # never skipped into a pass
    checkouts = [s for s in steps(gate) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert [c["with"]["ref"] for c in checkouts] == ["${{ github.event.pull_request.base.sha }}"]
    assert "./.github/actions/setup" not in uses(gate)  # the PR's setup runs PR code
    script = runs(gate)
    assert ".venv/bin/mlops" not in script
    assert "make venv-policy" in script
    assert '--slurpfile config "policies/config/${STACK}.json"' in script
    assert ".venv-policy/bin/python policies/offline.py < payload.json" in script
    assert 'test "$mandatory" -eq 0' in script
    (download,) = [
        s for s in steps(gate) if str(s.get("uses", "")).startswith("actions/download-artifact@")
    ]
    assert download["with"]["name"] == "policy-input-${{ matrix.env }}"
    (upload,) = [
        s
        for s in steps(jobs["policy-plan"])
        if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert upload["with"]["if-no-files-found"] == "error"


def test_deploy_runs_dev_then_staging_then_prod_behind_environments() -> None:
    doc = load("deploy.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    assert doc["concurrency"]["cancel-in-progress"] is False
    jobs = doc["jobs"]
    assert set(jobs) == {"dev", "staging", "prod"}
    assert "needs" not in jobs["dev"]
    assert jobs["staging"]["needs"] == ["dev"]
    assert jobs["prod"]["needs"] == ["staging"]
    # each job starts its stack's runner in the VPC; the runner's buildspec runs the offline
    # checks, then `pulumi up` with the pack (tests/infra/foundation/deployer/test_aws.py)
    buildspec = yaml.safe_load(
        (ROOT / "infra" / "foundation" / "deployer" / "buildspec.yml").read_text()
    )
    build = " ".join(
        " ".join(
            str(c) for phase in buildspec["phases"].values() for c in phase["commands"]
        ).split()
    )
    assert 'pulumi up --stack "$STACK" --yes' in build
    assert "--policy-pack policies" in build
    assert 'mlops policy check "$STACK"' in build
    for env, job in jobs.items():
        assert job["environment"] == env
        assert job["env"]["STACK"] == env
        assert runs(job).strip() == "infra/foundation/deployer/start-deploy.sh"
        oidc = next(s for s in steps(job) if str(s.get("uses", "")).startswith(OIDC_ACTION))
        assert oidc["with"]["role-to-assume"] == f"${{{{ vars.AWS_ROLE_ARN_{env.upper()} }}}}"


def test_image_is_built_scanned_then_tagged_with_the_commit() -> None:
    doc = load("image.yml")
    (job,) = doc["jobs"].values()
    assert sorted(i["env"] for i in job["strategy"]["matrix"]["include"]) == ENVS
    assert job["environment"] == "${{ matrix.env }}"
    assert job["env"]["TAG"] == "${{ github.sha }}"
    names = [str(s.get("name", "")) for s in steps(job)]
    build = next(i for i, n in enumerate(names) if n.startswith("Build"))
    scan = next(i for i, n in enumerate(names) if n.startswith("Scan"))
    release = next(i for i, n in enumerate(names) if n.startswith("Release tag"))
    assert build < scan < release
    script = runs(job)
    assert "--file pipelines/Dockerfile" in script and (ROOT / "pipelines" / "Dockerfile").is_file()
    assert "aws ecr wait image-scan-complete" in script
    assert '--image-tag "$TAG"' in script


def test_retrain_validates_trains_and_promotes_through_the_pipelines() -> None:
    doc = load("retrain.yml")
    assert doc["on"]["pull_request"]["branches"] == ["data"]
    assert doc["on"]["schedule"]
    local, cloud = doc["jobs"]["local"], doc["jobs"]["cloud"]
    assert "mlops pipeline run features --local" in runs(local)
    assert "mlops pipeline run training --local" in " ".join(runs(local).split())
    assert "mlops pipeline submit training --host" in " ".join(runs(cloud).split())
    assert "vars.KFP_HOST != ''" in cloud["if"]


def mlops_commands() -> list[list[str]]:
    """Every `.venv/bin/mlops ...` command line the workflows run, as argv lists."""
    found = []
    for doc in all_workflows().values():
        for job in doc["jobs"].values():
            for script in (str(s.get("run", "")) for s in steps(job)):
                for line in " ".join(script.replace("\\\n", " ").split("\n")).split("&&"):
                    if ".venv/bin/mlops " in line:
                        tail = line.split(".venv/bin/mlops ", 1)[1].split(">")[0]
                        found.append(shlex.split(tail))
    return found


def test_every_mlops_command_the_workflows_run_exists() -> None:
    import typer

    from mlops.cli import app

    root = typer.main.get_command(app)  # typer ships its own click: groups have `commands`
    commands = mlops_commands()
    assert len(commands) >= 5
    for argv in commands:
        group: Any = root
        words = [w for w in argv if not w.startswith("-") and "$" not in w]
        path: list[str] = []
        while hasattr(group, "commands") and words:
            sub = group.commands.get(words[0])
            assert sub is not None, f"`mlops {' '.join([*path, words[0]])}` does not exist"
            path.append(words.pop(0))
            group = sub
        assert not hasattr(group, "commands"), f"`mlops {' '.join(path)}` is a group"
        options = {o for p in group.params for o in getattr(p, "opts", [])}
        for word in argv:
            if word.startswith("-"):
                assert word.split("=")[0] in options, f"`mlops {' '.join(path)}` has no {word}"


def test_pipeline_parameters_the_workflows_pass_exist() -> None:
    from mlops.pipeline_runner import describe

    params = {row["name"]: set(row["parameters"]) for row in describe()}
    for argv in mlops_commands():
        if argv[:1] == ["pipeline"] and argv[1] in {"run", "submit"}:
            given = [argv[i + 1] for i, w in enumerate(argv) if w == "-p"]
            for pair in given:
                assert pair.split("=")[0] in params[argv[2]], f"{argv[2]} has no {pair}"


def test_the_policy_pack_config_each_environment_uses_exists() -> None:
    for env in ENVS:
        assert (ROOT / "policies" / "config" / f"{env}.json").is_file(), env
    assert (ROOT / "policies" / "PulumiPolicy.yaml").is_file()
    assert (ROOT / "policies" / "requirements.txt").is_file()  # the setup action installs it
