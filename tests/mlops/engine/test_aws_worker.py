"""moto in its helper process: same verdicts as in this process, several environments
planned as one by one, and no silent passes when the helper goes away."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlops.engine import aws_worker
from mlops.engine.fakes import Ctx
from mlops.engine.plan import plan_environment, plan_environments, plan_program, plan_stack
from mlops.engine.stack_config import StackConfig, load_project
from mlops.errors import PlanError
from mlops.render import to_json

PROGRAMS = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "programs"


def _config(program: Path) -> StackConfig:
    project = load_project(program)
    return StackConfig(project, "dev", dict(project.defaults), ())


def test_the_helper_and_this_process_reject_alike() -> None:
    config = _config(PROGRAMS / "bad_iam")
    with pytest.raises(PlanError) as remote:
        plan_stack(config)  # moto in the helper
    with pytest.raises(PlanError) as local:
        plan_stack(config, inspect=lambda backend: None)  # moto in this process
    assert str(remote.value) == str(local.value)
    assert str(remote.value).startswith("aws:iam/policy:Policy 'broken-policy': ")


# one bucket, named by the stack's config
BUCKET_PROGRAM = (
    "import pulumi, pulumi_aws as aws\n"
    "name = pulumi.Config().require('bucket')\n"
    "p = aws.Provider('aws', region='us-east-1')\n"
    "aws.s3.Bucket('b', bucket=name, opts=pulumi.ResourceOptions(provider=p))\n"
)


@pytest.fixture
def bucket_program(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: one-bucket\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(BUCKET_PROGRAM)
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  one-bucket:bucket: fixed-name\n")
    return tmp_path


def test_each_plan_starts_from_an_empty_account(bucket_program: Path) -> None:
    # a second plan in the same helper would be refused (the bucket exists) if the
    # first plan's account were kept
    first = plan_program(bucket_program)
    second = plan_program(bucket_program)
    assert first["_moto_types"] == second["_moto_types"] == ["aws:s3/bucket:Bucket"]


def test_a_dead_helper_fails_the_plan_in_one_line_and_is_replaced(bucket_program: Path) -> None:
    aws_worker.start("us-east-1")
    worker = aws_worker._WORKER[0]
    session = aws_worker.Session(worker, Ctx(stack="dev", region="us-east-1"))
    worker._proc.kill()
    worker._proc.wait()
    with pytest.raises(PlanError, match=r"^the AWS checks \(moto\) stopped: ") as err:
        session.end()()  # the verdict
    assert "\n" not in str(err.value)
    plan = plan_program(bucket_program)  # a new helper takes over
    assert plan["_moto_types"] == ["aws:s3/bucket:Bucket"]
    assert aws_worker._WORKER[0] is not worker


@pytest.fixture
def two_stacks(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: named\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(BUCKET_PROGRAM)
    (tmp_path / "Pulumi.good.yaml").write_text("config:\n  named:bucket: good-name\n")
    (tmp_path / "Pulumi.refused.yaml").write_text("config:\n  named:bucket: Bad_Name\n")
    (tmp_path / "Pulumi.broken.yaml").write_text("config: {}\n")  # the program fails
    return tmp_path


# make test-all: plans every environment twice
@pytest.mark.long
def test_several_environments_plan_as_one_by_one() -> None:
    together = plan_environments(["dev", "prod"])
    for env in ("dev", "prod"):
        alone = plan_environment(env)
        assert to_json(together[env]) == to_json(alone)
        assert together[env]["policies"] == alone["policies"]


def test_a_refusal_found_after_the_next_plan_started_still_comes_first(two_stacks: Path) -> None:
    # one by one, "refused" fails before "broken" is planned: so must it here
    with pytest.raises(PlanError, match=r"^aws:s3/bucket:Bucket 'b': InvalidBucketName"):
        plan_environments(["good", "refused", "broken"], root=two_stacks)
    with pytest.raises(PlanError, match=r"^the program failed: "):
        plan_environments(["good", "broken", "refused"], root=two_stacks)
    assert set(plan_environments(["good", "good"], root=two_stacks)) == {"good"}


def test_moto_refusal_comes_before_what_the_pack_said(
    two_stacks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the pack evaluates the plan while moto finishes checking it: a refused plan is
    # reported as refused, whatever the pack did meanwhile
    from mlops.engine import plan as engine

    def pack_fails(plan: dict, policy_env: str | None = None, runner: Any = None) -> dict:
        runner.kill()
        runner.communicate()
        raise PlanError("the policy runner failed: boom")

    monkeypatch.setattr(engine, "finish", pack_fails)
    with pytest.raises(PlanError, match=r"^aws:s3/bucket:Bucket 'b': InvalidBucketName"):
        engine.plan_environment("refused", root=two_stacks)
    with pytest.raises(PlanError, match=r"boom$"):
        engine.plan_environment("good", root=two_stacks)


@pytest.mark.parametrize(
    ("argv", "starts"),
    [
        (["plan", "prod", "--json"], True),
        (["policy", "check", "dev", "prod"], True),
        (["cost", "dev"], True),
        (["review", "--base", "HEAD~1"], True),
        (["demo"], True),
        (["plan", "--help"], False),
        (["policy", "check", "-h"], False),
        (["policy"], False),
        (["local", "up"], False),
        (["model", "show"], False),
        ([], False),
    ],
)
def test_only_commands_that_plan_start_the_helper_before_parsing(
    argv: list[str], starts: bool
) -> None:
    from mlops.cli import _starts_planning

    assert _starts_planning(argv) is starts
