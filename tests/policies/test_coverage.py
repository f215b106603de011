"""Coverage: a resource of a type no rule reads is reported, never silently unchecked."""

from __future__ import annotations

import pytest
from harness import messages, res

from policies.rules.common import TYPES_READ
from policies.rules.coverage import KNOWN_GAPS, READ_BY_STACK_RULES, REVIEWED, known_types

RULE = "resource-type-known"


def _unknown(type_: str) -> str:
    return (
        f"The pack does not know the resource type {type_}: no rule reads it, so nothing "
        "it sets is checked. Review it: a rule for it, or an entry in "
        "policies/rules/coverage.py saying why it carries nothing to govern."
    )


@pytest.mark.parametrize(
    "type_",
    [
        "aws:s3/bucket:Bucket",  # read by rules
        "aws:ec2/vpc:Vpc",  # read by a stack rule
        "aws:ec2/subnet:Subnet",  # reviewed
        "aws:cloudwatch/logGroup:LogGroup",  # a known gap
        "pulumi:providers:aws",  # a provider's settings
    ],
)
def test_resource_type_known_passes_types_the_pack_knows(type_: str) -> None:
    assert messages(RULE, [res(type_, "r", {})]) == []


def test_resource_type_known_skips_components() -> None:
    component = {**res("team:app:Service", "svc", {}), "custom": False}
    assert messages(RULE, [component]) == []


def test_a_remote_component_whose_objects_the_plan_does_not_show_is_judged() -> None:
    """A provider's component (a YAML bundle, say) renders objects the offline plan does
    not show: unless a rule reads it, it is unknown, not a component to skip."""
    bundle = {
        **res("kubernetes:bundles.example.com/v1:Bundle", "b", {"files": ["a.yaml"]}),
        "custom": False,
    }
    assert messages(RULE, [bundle]) == [_unknown("kubernetes:bundles.example.com/v1:Bundle")]


@pytest.mark.parametrize(
    "type_",
    [
        "aws:sqs/queue:Queue",  # a real service no rule reads (its queue policy, say)
        "aws:sns/topicPolicy:TopicPolicy",  # a resource policy no rule reads yet
        "kubernetes:apps.example.com/v1:PodSet",  # a custom kind that may carry pods
        "command:local:Command",  # runs anything on the deployer
        "evil:index:Thing",  # a made-up type token
    ],
)
def test_unknown_resource_type_is_reported(type_: str) -> None:
    assert messages(RULE, [res(type_, "x", {})]) == [_unknown(type_)]


def test_an_unknown_type_is_reported_even_with_an_explicit_provider() -> None:
    provider = res("pulumi:providers:aws", "p", {"region": "us-east-1"})
    queue = {**res("aws:sqs/queue:Queue", "q", {}), "provider": f"{provider['urn']}::id"}
    assert messages(RULE, [provider, queue]) == [_unknown("aws:sqs/queue:Queue")]


def test_reviewed_and_gap_entries_are_types_no_rule_reads() -> None:
    """When a rule starts reading a reviewed type or a known gap, its entry goes."""
    read = set().union(*TYPES_READ.values(), *map(set, READ_BY_STACK_RULES.values()))
    assert not read & set(REVIEWED)
    assert not read & set(KNOWN_GAPS)
    assert not set(REVIEWED) & set(KNOWN_GAPS)
    assert set(REVIEWED) | set(KNOWN_GAPS) <= known_types()


def test_stack_rule_entries_name_stack_rules_of_the_pack() -> None:
    from policies.rules import ALL_POLICIES

    assert set(READ_BY_STACK_RULES) <= {p.name for p in ALL_POLICIES}
