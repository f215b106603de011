"""The offline plan engine: determinism, secrets, invokes, AWS-side validation, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from plans import planned

from mlops.engine.plan import plan_environment, plan_program
from mlops.errors import PlanError, UsageError
from mlops.render import to_json

ROOT = Path(__file__).resolve().parents[3]
PROGRAMS = ROOT / "tests" / "fixtures" / "programs"


@pytest.fixture(scope="module")
def fixture_plan() -> dict:
    return plan_program(PROGRAMS / "k8s")


# make test-all: determinism across processes stays in make test
@pytest.mark.long
def test_same_inputs_give_identical_bytes() -> None:
    assert to_json(plan_environment("staging")) == to_json(plan_environment("staging"))


def test_plan_contract_shape() -> None:
    plan = json.loads(to_json(planned("dev").plan))
    assert plan["environment"] == "dev"
    assert {"resources", "outputs"} <= plan.keys()
    for r in plan["resources"]:
        assert {
            "urn",
            "type",
            "name",
            "parent",
            "custom",
            "inputs",
            "dependencies",
            "protect",
        } <= r.keys()
        assert r["urn"].startswith("urn:pulumi:dev::mlops-platform::")
    urns = [r["urn"] for r in plan["resources"]]
    assert urns == sorted(urns)
    # every dependency points at a resource of the plan
    for r in plan["resources"]:
        assert set(r["dependencies"]) <= set(urns)


def test_secrets_are_redacted_everywhere(fixture_plan: dict) -> None:
    text = to_json(fixture_plan)
    assert fixture_plan["outputs"]["token"] == "[secret]"
    by_name = {r["name"]: r for r in fixture_plan["resources"]}
    assert by_name["token"]["inputs"]["stringData"] == "[secret]"
    assert by_name["k8s"]["inputs"]["kubeconfig"] == "[secret]"
    assert "kind: Config" not in text  # the kubeconfig never leaks
    assert "v1:c2VjcmV0" not in text  # nor the encrypted config value


def test_project_config_defaults_are_overridden_by_the_stack(fixture_plan: dict) -> None:
    assert fixture_plan["outputs"]["replicas"] == 2  # from Pulumi.dev.yaml


def test_policy_document_invoke_renders_like_the_provider(fixture_plan: dict) -> None:
    trust = json.loads(fixture_plan["outputs"]["trust"])
    statement = trust["Statement"][0]
    assert trust["Version"] == "2012-10-17"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": "arn:aws:iam::123456789012:oidc-provider/x"}
    assert statement["Condition"] == {"StringEquals": {"x:aud": "sts.amazonaws.com"}}


def test_invokes_answer_for_the_provider_region(fixture_plan: dict) -> None:
    assert fixture_plan["outputs"]["zones"] == ["eu-west-1a", "eu-west-1b"]


def test_unknown_invoke_fails_the_plan(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: odd\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi_aws as aws\naws.ec2.get_ami(most_recent=True, owners=['amazon'])\n"
    )
    with pytest.raises(PlanError, match="invoke aws:ec2/getAmi:getAmi is not modelled offline"):
        plan_program(tmp_path)


def test_malformed_iam_policy_fails_naming_the_resource() -> None:
    with pytest.raises(PlanError) as err:
        plan_program(PROGRAMS / "bad_iam")
    assert str(err.value) == (
        "aws:iam/policy:Policy 'broken-policy': MalformedPolicyDocument: "
        "policy statement 0 needs Effect"
    )


def test_moto_rejects_what_aws_rejects(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: odd\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, pulumi_aws as aws\n"
        "p = aws.Provider('aws', region='us-east-1')\n"
        "aws.iam.Role('r', name='r', assume_role_policy='{\"Version\": \"2012-10-17\", "
        '"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}\','
        " opts=pulumi.ResourceOptions(provider=p))\n"
    )
    with pytest.raises(PlanError, match=r"^aws:iam/role:Role 'r': MalformedPolicyDocument: trust"):
        plan_program(tmp_path)


def test_moto_itself_validates_identity_policies(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: odd\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import json, pulumi, pulumi_aws as aws\n"
        "p = aws.Provider('aws', region='us-east-1')\n"
        "aws.iam.Policy('no-prefix', policy=json.dumps({'Version': '2012-10-17', 'Statement': "
        "[{'Effect': 'Allow', 'Action': 'GetObject', 'Resource': '*'}]}),"
        " opts=pulumi.ResourceOptions(provider=p))\n"
    )
    with pytest.raises(
        PlanError, match=r"^aws:iam/policy:Policy 'no-prefix': MalformedPolicyDocument"
    ):
        plan_program(tmp_path)


def test_an_rds_instance_with_an_aws_managed_password_plans(tmp_path: Path) -> None:
    """What AWS accepts: no password given, RDS keeps it in Secrets Manager."""
    (tmp_path / "Pulumi.yaml").write_text("name: odd\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, pulumi_aws as aws\n"
        "p = aws.Provider('aws', region='us-east-1')\n"
        "aws.rds.Instance('db', identifier='managed', engine='postgres', engine_version='17.7',"
        " instance_class='db.t4g.micro', allocated_storage=20, username='admin_user',"
        " manage_master_user_password=True, skip_final_snapshot=True,"
        " opts=pulumi.ResourceOptions(provider=p))\n"
    )
    plan_program(tmp_path)


def test_bad_bucket_name_fails(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: odd\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, pulumi_aws as aws\n"
        "p = aws.Provider('aws', region='us-east-1')\n"
        "aws.s3.Bucket('b', bucket='Bad_Name', opts=pulumi.ResourceOptions(provider=p))\n"
    )
    with pytest.raises(PlanError, match="InvalidBucketName: 'Bad_Name'"):
        plan_program(tmp_path)


def test_unknown_environment() -> None:
    with pytest.raises(UsageError, match="unknown environment 'nosuchenv'"):
        plan_environment("nosuchenv")


def test_malformed_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.dev.yaml"
    bad.write_text("config:\n  mlops-platform:platform: [unclosed\n")
    with pytest.raises(UsageError, match="malformed YAML"):
        plan_environment("dev", config_file=bad)


def test_invalid_config_is_a_usage_error_naming_the_field(tmp_path: Path) -> None:
    text = (ROOT / "environments" / "Pulumi.dev.yaml").read_text()
    bad = tmp_path / "Pulumi.dev.yaml"
    bad.write_text(text.replace("az_count: 2", "az_count: 1"))
    with pytest.raises(UsageError) as err:
        plan_environment("dev", config_file=bad)
    assert str(err.value) == (
        "environments/Pulumi.dev.yaml: platform.network.az_count: "
        "EKS needs subnets in at least 2 zones"
    )


def test_cli_plan_json_is_identical_across_processes() -> None:
    def run() -> bytes:
        return subprocess.run(
            [sys.executable, "-m", "mlops.cli", "plan", "prod", "--json"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout

    first = run()
    assert json.loads(first)["environment"] == "prod"
    assert run() == first


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["plan", "nosuchenv"], 2, "error: unknown environment 'nosuchenv'"),
        (["plan", "dev", "--json", "--markdown"], 2, "error: --json and --markdown"),
    ],
)
def test_cli_errors_are_one_line(args: list[str], code: int, message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mlops.cli", *args], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == code
    assert proc.stderr.startswith(message)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
