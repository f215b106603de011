"""The per-type registry: every type in every plan has an entry, and the entries tell the
truth about the engine (moto) and the cost model."""

from __future__ import annotations

from pathlib import Path

import pytest
from plans import ENVS, planned

from mlops import cost, resource_types
from mlops.engine.plan import plan_program
from mlops.errors import PlanError, UsageError
from mlops.terraform_plan import export

REGISTRY = resource_types.load()


@pytest.mark.parametrize("env", ENVS)
def test_every_type_in_the_plan_has_an_entry(env: str) -> None:
    assert REGISTRY.missing(resource_types.plan_types(planned(env).plan)) == []


@pytest.mark.parametrize("env", ENVS)
def test_moto_checks_exactly_the_types_the_registry_says(env: str) -> None:
    plan = planned(env).plan
    aws_types = {t for t in resource_types.plan_types(plan) if t.startswith("aws:")}
    said = {t for t in aws_types if REGISTRY.types[t].moto_checked}
    assert said == set(plan["_moto_types"]) & aws_types
    assert said, "moto checked nothing: the comparison would prove nothing"


def test_priced_and_usage_only_entries_match_the_cost_model() -> None:
    usage_only = set(cost.load_prices()["usage_only"])
    for token, entry in REGISTRY.types.items():
        assert (entry.price == "priced") == (token in cost.PRICED_TYPES), token
        assert (entry.price == "usage-only") == (token in usage_only), token
    # every rate the price table keeps for usage is for a registered type
    assert usage_only <= set(REGISTRY.types)


def test_every_aws_type_maps_to_terraform_and_support_points_at_a_table() -> None:
    from infra.base import versions

    for token, entry in REGISTRY.types.items():
        if token.startswith("aws:"):
            assert entry.mapping is not None and entry.mapping.type.startswith("aws_"), token
        if entry.support is not None:
            assert entry.support.versions in versions.table(), token


def test_a_program_with_an_unregistered_type_is_caught(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: scratch\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi_aws as aws\n"
        "aws.s3.Bucket('data', bucket='scratch-data')\n"
        "aws.sns.Topic('events', name='scratch-events')\n"
    )
    plan = plan_program(tmp_path)
    assert REGISTRY.missing(resource_types.plan_types(plan)) == ["aws:sns/topic:Topic"]
    with pytest.raises(PlanError, match=r"^aws:sns/topic:Topic has no entry in mlops/data/"):
        export(plan, REGISTRY)


def test_project_components_need_no_entry() -> None:
    assert REGISTRY.missing(["mlops:storage:ArtifactStore", "aws:s3/bucket:Bucket"]) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"moto": "maybe", "price": "priced", "terraform": {"type": "aws_x"}},
            "types.aws:x/y:Y.moto",
        ),
        (
            {"moto": {"unchecked": "no"}, "price": "priced", "terraform": {"type": "aws_x"}},
            "give the reason in a sentence",
        ),
        ({"moto": "checked", "price": "priced"}, "types.aws:x/y:Y.terraform: Field required"),
        (
            {"moto": "checked", "price": "priced", "terraform": {"type": "aws_x"}, "cost": 1},
            "Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_entry_is_one_line_naming_the_field(entry: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as err:
        resource_types.parse({"types": {"aws:x/y:Y": entry}})
    assert "\n" not in str(err.value)
    assert message in str(err.value)
