"""The mocks record the whole graph, answer only invokes they model, and let moto refuse."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from mlops.engine.aws_backend import Backend
from mlops.engine.plan import plan_function
from mlops.errors import PlanError


def by_name(plan: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [r for r in plan["resources"] if r["name"] == name]
    return found


class Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Box", name, None, opts)
        self.register_outputs({})


def test_parents_dependencies_and_property_dependencies_are_recorded() -> None:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        box = Box("box", pulumi.ResourceOptions(provider=provider))
        key = aws.kms.Key("key", opts=pulumi.ResourceOptions(parent=box))
        aws.kms.Alias(
            "alias",
            name="alias/test",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=box, depends_on=[key], protect=True),
        )

    plan = plan_function(program)
    box, key, alias = (by_name(plan, n) for n in ("box", "key", "alias"))
    assert not box["custom"] and key["custom"]
    assert key["parent"] == alias["parent"] == box["urn"]
    assert alias["dependencies"] == [key["urn"]]
    assert alias["propertyDependencies"] == {"targetKeyId": [key["urn"]]}
    assert alias["protect"] is True and key["protect"] is False
    assert alias["inputs"]["name"] == "alias/test"


def test_an_invoke_the_mocks_do_not_model_fails_the_plan_naming_it() -> None:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        aws.ec2.get_ami(
            most_recent=True, owners=["amazon"], opts=pulumi.InvokeOptions(provider=provider)
        )

    with pytest.raises(PlanError, match="invoke aws:ec2/getAmi:getAmi is not modelled offline"):
        plan_function(program)


def test_invokes_answer_for_the_region_of_their_provider() -> None:
    seen: dict[str, str] = {}

    def program() -> None:
        provider = aws.Provider("ireland", region="eu-west-1")
        seen["region"] = aws.get_region(opts=pulumi.InvokeOptions(provider=provider)).region

    plan_function(program)
    assert seen["region"] == "eu-west-1"


def test_a_resource_aws_refuses_fails_the_plan_naming_type_and_name() -> None:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        aws.s3.Bucket("b", bucket="Not_A_Bucket", opts=pulumi.ResourceOptions(provider=provider))

    with pytest.raises(PlanError, match=r"aws:s3/bucket:Bucket 'b': InvalidBucketName"):
        plan_function(program, inspect=lambda _: None)


def test_what_aws_accepts_is_held_by_moto_for_inspection() -> None:
    held: dict[str, Any] = {}

    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        aws.s3.Bucket("b", bucket="a-fine-bucket", opts=pulumi.ResourceOptions(provider=provider))

    def inspect(backend: Backend) -> None:
        held["buckets"] = [b["Name"] for b in backend.client("s3").list_buckets()["Buckets"]]

    plan_function(program, inspect=inspect)
    assert held["buckets"] == ["a-fine-bucket"]


def test_stack_outputs_and_secrets_are_recorded_redacted() -> None:
    def program() -> None:
        pulumi.export("plain", "value")
        pulumi.export("hidden", pulumi.Output.secret("s3cr3t"))

    plan = plan_function(program)
    assert plan["outputs"]["plain"] == "value"
    assert plan["outputs"]["hidden"] == "[secret]"
    assert "s3cr3t" not in str(plan)


def test_duplicate_urn_is_refused() -> None:
    """Two resources with one type and name: the engine refuses the second; mocks used to
    keep whichever registered last, so what the plan showed depended on timing."""

    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        on_aws = pulumi.ResourceOptions(provider=provider)
        aws.s3.Bucket("data", bucket="hardened-data", opts=on_aws)
        aws.s3.Bucket("data", bucket="public-data", acl="public-read", opts=on_aws)

    with pytest.raises(PlanError) as err:
        plan_function(program)
    assert str(err.value) == (
        "Duplicate resource URN 'urn:pulumi:test::mlops-platform::pulumi:pulumi:Stack"
        "$aws:s3/bucket:Bucket::data'; "
        "try giving it a unique name"
    )


def test_program_calling_sys_exit_is_a_plan_error_not_an_exit() -> None:
    import sys

    def program() -> None:
        aws.s3.Bucket(
            "data",
            bucket="public-data",
            acl="public-read",
            opts=pulumi.ResourceOptions(provider=aws.Provider("aws", region="us-east-1")),
        )
        sys.exit(0)

    with pytest.raises(PlanError, match=r"the program called sys\.exit\(0\) while it was planned"):
        plan_function(program)


def test_secrets_show_as_placeholders_and_reach_the_pack_as_secrets() -> None:
    from mlops.engine.plan import public
    from mlops.engine.values import SECRET_SIG, SIG_KEY
    from mlops.policy_check import pack_resources

    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        aws.iam.Policy(
            "p",
            policy=pulumi.Output.secret('{"Statement": []}'),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        aws.kms.Key("k", opts=pulumi.ResourceOptions(provider=provider))

    plan = plan_function(program)
    assert by_name(plan, "p")["inputs"]["policy"] == "[secret]"
    assert "_pack_inputs" not in public(plan)
    pack = {r["name"]: r for r in pack_resources(plan)}
    assert pack["p"]["inputs"]["policy"] == {SIG_KEY: SECRET_SIG, "value": '{"Statement": []}'}
    assert (
        pack["p"]["provider"]
        == by_name(plan, "aws")["urn"] + "::" + pack["p"]["provider"].rsplit("::", 1)[-1]
    )
    assert pack["k"]["inputs"] == by_name(plan, "k")["inputs"]  # no secret: as planned


def test_print_in_a_planned_program_goes_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    """`mlops plan ENV --json` and `mlops policy check ENV --json` print the plan on
    stdout: a program's own output (print or the raw file descriptor) must not mix in."""
    import os
    import sys

    def program() -> None:
        print("{not json")
        os.write(1, b"raw bytes\n")
        sys.stdout.flush()

    plan_function(program)
    print("after")
    out, err = capfd.readouterr()
    assert out == "after\n"
    assert "{not json" in err and "raw bytes" in err
