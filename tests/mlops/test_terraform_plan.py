"""The Terraform plan-JSON export: every AWS resource, Terraform's names, references where
Pulumi wired an output, and no stand-in IDs or secrets as values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from plans import ENVS, planned

from mlops import resource_types
from mlops.terraform_plan import export, snake

REGISTRY = resource_types.load()


def exported(env: str) -> dict[str, Any]:
    return export(planned(env).plan, REGISTRY)


def by_address(doc: dict[str, Any], part: str) -> dict[str, dict[str, Any]]:
    if part == "planned":
        rows = doc["planned_values"]["root_module"]["resources"]
    elif part == "changes":
        rows = doc["resource_changes"]
    else:
        rows = doc["configuration"]["root_module"]["resources"]
    return {r["address"]: r for r in rows}


@pytest.mark.parametrize("env", ENVS)
def test_every_aws_resource_of_the_plan_is_exported_once(env: str) -> None:
    plan = planned(env).plan
    expected = [
        r for r in plan["resources"] if r["custom"] and r["type"].startswith(("aws:", "random:"))
    ]
    doc = exported(env)
    planned_rows = doc["planned_values"]["root_module"]["resources"]
    assert len(planned_rows) == len(expected) == len(by_address(doc, "planned"))
    assert sorted(r["type"] for r in planned_rows) == sorted(
        REGISTRY.types[r["type"]].mapping.type
        for r in expected  # type: ignore[union-attr]
    )
    assert len(by_address(doc, "changes")) == len(by_address(doc, "config")) == len(expected)


@pytest.mark.parametrize("env", ENVS)
def test_no_secret_and_no_stand_in_id_reaches_the_export(env: str) -> None:
    plan = planned(env).plan
    text = json.dumps(exported(env))
    assert "[secret]" not in text and "[unknown]" not in text
    # the mocks' IDs (subnet-..., sg-..., vpc-...) stand for what AWS would assign: unknown
    ids = {
        s["id"]
        for s in plan["_states"].values()
        if isinstance(s.get("id"), str)
        and s["id"].startswith(("subnet-", "sg-", "vpc-", "nat-", "igw-", "eipalloc-"))
    }
    assert ids and not [i for i in ids if f'"{i}"' in text]


def test_a_companion_references_its_bucket_and_leaves_the_id_unknown() -> None:
    doc = exported("prod")
    pab = "aws_s3_bucket_public_access_block.artifacts-public-access-block"
    assert "bucket" not in by_address(doc, "planned")[pab]["values"]
    assert by_address(doc, "changes")[pab]["change"]["after_unknown"]["bucket"] is True
    assert by_address(doc, "config")[pab]["expressions"]["bucket"] == {
        "references": ["aws_s3_bucket.artifacts.id", "aws_s3_bucket.artifacts"]
    }


def test_renamed_blocks_and_nested_references_follow_terraform() -> None:
    doc = exported("prod")
    sse = "aws_s3_bucket_server_side_encryption_configuration.artifacts-encryption"
    (rule,) = by_address(doc, "planned")[sse]["values"]["rule"]
    assert rule["apply_server_side_encryption_by_default"] == [{"sse_algorithm": "aws:kms"}]
    (conf,) = by_address(doc, "config")[sse]["expressions"]["rule"]
    assert conf["apply_server_side_encryption_by_default"] == [
        {
            "kms_master_key_id": {
                "references": ["aws_kms_key.artifacts-key.arn", "aws_kms_key.artifacts-key"]
            }
        }
    ]
    oidc = [
        r
        for r in doc["planned_values"]["root_module"]["resources"]
        if r["type"] == "aws_iam_openid_connect_provider"
    ]
    assert oidc and all("client_id_list" in r["values"] for r in oidc)


def test_a_generated_secret_is_an_unknown_reference_to_its_generator() -> None:
    doc = exported("prod")
    cache = "aws_elasticache_replication_group.online-store"
    assert by_address(doc, "planned")[cache]["sensitive_values"]["auth_token"] is True
    assert by_address(doc, "changes")[cache]["change"]["after_unknown"]["auth_token"] is True
    refs = by_address(doc, "config")[cache]["expressions"]["auth_token"]["references"]
    assert refs[0].startswith("random_password.") and refs[0].endswith(".result")


@pytest.mark.parametrize(
    ("pulumi", "terraform"),
    [
        ("cidrIpv4", "cidr_ipv4"),
        ("s3Logs", "s3_logs"),
        ("multiAzEnabled", "multi_az_enabled"),
        ("bucket", "bucket"),
        ("httpPutResponseHopLimit", "http_put_response_hop_limit"),
    ],
)
def test_camel_case_becomes_snake_case(pulumi: str, terraform: str) -> None:
    assert snake(pulumi) == terraform
