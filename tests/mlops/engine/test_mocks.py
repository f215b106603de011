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
