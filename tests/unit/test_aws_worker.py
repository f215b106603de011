"""moto in its helper process: same verdicts as in this process, and no silent passes
when the helper goes away."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.engine import aws_worker
from mlops.engine.fakes import Ctx
from mlops.engine.plan import plan_program, plan_stack
from mlops.engine.stack_config import StackConfig, load_project
from mlops.errors import PlanError

PROGRAMS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "programs"


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


BUCKET_PROGRAM = (
    "import pulumi, pulumi_aws as aws\n"
    "p = aws.Provider('aws', region='us-east-1')\n"
    "aws.s3.Bucket('b', bucket='fixed-name', opts=pulumi.ResourceOptions(provider=p))\n"
)


@pytest.fixture
def bucket_program(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: one-bucket\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(BUCKET_PROGRAM)
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
        session.finish()
    assert "\n" not in str(err.value)
    plan = plan_program(bucket_program)  # a new helper takes over
    assert plan["_moto_types"] == ["aws:s3/bucket:Bucket"]
    assert aws_worker._WORKER[0] is not worker
