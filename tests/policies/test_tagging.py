"""Tagging rules over every AWS resource."""

from __future__ import annotations

from typing import Any

import pytest
from harness import messages, res, unseen

TAGS = {
    "owner": "platform",
    "cost-center": "cc-1",
    "environment": "prod",
    "data-classification": "confidential",
}
POLICIES = [
    "aws-required-tags",
    "aws-data-classification-valid",
    "aws-environment-tag-matches-stack",
]


def bucket(tags: Any) -> dict[str, Any]:
    return res("aws:s3/bucket:Bucket", "b", {"bucket": "b", "tags": tags})


@pytest.mark.parametrize("policy", POLICIES)
def test_tagging_passes_tagged_and_untaggable_resources(policy: str) -> None:
    rs = [
        bucket(TAGS),
        res("aws:s3/bucketVersioning:BucketVersioning", "v", {"bucket": "b"}),
        res("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "x"}}),
    ]
    assert messages(policy, rs) == []


def test_provider_default_tags_count() -> None:
    provider = res("pulumi:providers:aws", "aws", {"defaultTags": {"tags": TAGS}})
    key = res("aws:kms/key:Key", "k", {}, provider=f"{provider['urn']}::04da6b54")
    assert messages("aws-required-tags", [provider, key]) == []


@pytest.mark.parametrize(
    ("policy", "resource", "message"),
    [
        ("aws-required-tags", bucket({**TAGS, "owner": ""}), "Missing tag(s): owner."),
        (
            "aws-required-tags",
            res("aws:kms/key:Key", "k", {"enableKeyRotation": True}),
            "Missing tag(s): owner, cost-center, environment, data-classification.",
        ),
        (
            "aws-required-tags",
            bucket("[secret]"),
            unseen(".tags"),
        ),
        (
            "aws-data-classification-valid",
            bucket({**TAGS, "data-classification": "secret-ish"}),
            "data-classification 'secret-ish' is not one of public, internal, confidential, "
            "restricted.",
        ),
        (
            "aws-environment-tag-matches-stack",
            bucket({**TAGS, "environment": "dev"}),
            "Tag environment='dev' but the stack is 'prod'.",
        ),
    ],
)
def test_tagging_fails(policy: str, resource: dict[str, Any], message: str) -> None:
    assert messages(policy, [resource]) == [message]


def test_required_tags_are_configurable() -> None:
    assert (
        messages("aws-required-tags", [bucket({"team": "risk"})], {"required_tags": ["team"]}) == []
    )
