"""What the mocks answer: deterministic, shaped the way AWS and Kubernetes answer."""

from __future__ import annotations

import json
import re
import string

from mlops.engine import fakes
from mlops.engine.fakes import Ctx, new_resource, random_password

DEV = Ctx(stack="dev", region="us-east-1")
PROD = Ctx(stack="prod", region="eu-west-1")


def test_ids_depend_on_stack_type_and_name_only() -> None:
    assert new_resource(DEV, "aws:kms/key:Key", "k", {}) == new_resource(
        DEV, "aws:kms/key:Key", "k", {}
    )
    assert (
        new_resource(DEV, "aws:kms/key:Key", "k", {})[0]
        != new_resource(PROD, "aws:kms/key:Key", "k", {})[0]
    )
    assert (
        new_resource(DEV, "aws:kms/key:Key", "k", {})[0]
        != new_resource(DEV, "aws:kms/key:Key", "k2", {})[0]
    )


def test_arns_are_built_the_way_aws_builds_them() -> None:
    _, key = new_resource(PROD, "aws:kms/key:Key", "k", {})
    assert re.fullmatch(r"arn:aws:kms:eu-west-1:123456789012:key/[0-9a-f-]{36}", key["arn"])
    _, bucket = new_resource(PROD, "aws:s3/bucket:Bucket", "b", {"bucket": "my-bucket"})
    assert bucket["arn"] == "arn:aws:s3:::my-bucket"  # S3 ARNs name neither region nor account
    _, role = new_resource(PROD, "aws:iam/role:Role", "r", {"name": "my-role"})
    assert role["arn"] == "arn:aws:iam::123456789012:role/my-role"  # IAM is global
    _, other = new_resource(PROD, "aws:sqs/queue:Queue", "q", {})
    assert other["arn"].startswith("arn:aws:sqs:eu-west-1:123456789012:queue/")


def test_an_unnamed_bucket_is_auto_named_like_pulumi_does() -> None:
    _, bucket = new_resource(DEV, "aws:s3/bucket:Bucket", "logs", {})
    assert re.fullmatch(r"logs-[0-9a-f]{7}", bucket["bucket"])


def test_kubernetes_objects_get_a_namespace_unless_cluster_scoped() -> None:
    _, cm = new_resource(DEV, "kubernetes:core/v1:ConfigMap", "c", {"metadata": {"name": "x"}})
    assert (cm["metadata"]["namespace"], cm["metadata"]["name"]) == ("default", "x")
    _, ns = new_resource(DEV, "kubernetes:core/v1:Namespace", "n", {"metadata": {"name": "team"}})
    assert "namespace" not in ns["metadata"]


def test_inputs_are_kept_and_tags_become_tags_all() -> None:
    _, state = new_resource(DEV, "aws:kms/key:Key", "k", {"description": "d", "tags": {"a": "1"}})
    assert state["description"] == "d" and state["tagsAll"] == {"a": "1"}


def test_generated_passwords_honour_what_the_inputs_ask() -> None:
    inputs = {
        "length": 32,
        "special": True,
        "overrideSpecial": "!#",
        "minLower": 2,
        "minUpper": 2,
        "minNumeric": 2,
        "minSpecial": 2,
    }
    value = random_password(DEV, "db-password", inputs)
    assert len(value) == 32 and set(value) <= set(string.ascii_letters + string.digits + "!#")
    for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits, "!#"):
        assert sum(c in chars for c in value) >= 2
    assert random_password(DEV, "db-password", inputs) == value
    assert random_password(PROD, "db-password", inputs) != value
    plain = random_password(DEV, "p", {"length": 20, "special": False})
    assert plain.isalnum()


def test_invokes_answer_for_the_context() -> None:
    identity = fakes.INVOKES["aws:index/getCallerIdentity:getCallerIdentity"](PROD, {})
    assert identity["accountId"] == "123456789012"
    region = fakes.INVOKES["aws:index/getRegion:getRegion"](PROD, {})
    assert region["name"] == "eu-west-1"
    zones = fakes.INVOKES["aws:index/getAvailabilityZones:getAvailabilityZones"](PROD, {})
    assert all(z.startswith("eu-west-1") for z in zones["names"]) and len(zones["names"]) >= 3


def test_policy_documents_merge_their_source_and_override_documents() -> None:
    """As the provider does: source statements, then the document's own (replacing one
    with the same Sid), then override documents (replacing by Sid again, else added)."""

    def doc(*statements: dict[str, object]) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})

    base = {"Sid": "Base", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}
    everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    answer = fakes.INVOKES["aws:iam/getPolicyDocument:getPolicyDocument"](
        DEV,
        {
            "sourcePolicyDocuments": [doc(base, everything)],
            "statements": [
                {"sid": "Base", "actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*"]}
            ],
            "overridePolicyDocuments": [doc({**everything, "Sid": "Extra"})],
        },
    )
    assert json.loads(answer["json"])["Statement"] == [
        {
            "Sid": "Base",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        },
        everything,
        {**everything, "Sid": "Extra"},
    ]


def test_policy_document_conditions_on_one_key_add_up() -> None:
    """Two conditions on one test and key are one condition with both values (the
    provider appends them): the last alone would be narrower than what AWS enforces."""
    answer = fakes.INVOKES["aws:iam/getPolicyDocument:getPolicyDocument"](
        DEV,
        {
            "statements": [
                {
                    "actions": ["s3:GetObject"],
                    "resources": ["arn:aws:s3:::b/*"],
                    "principals": [{"type": "*", "identifiers": ["*"]}],
                    "conditions": [
                        {"test": "IpAddress", "variable": "aws:SourceIp", "values": ["0.0.0.0/0"]},
                        {"test": "IpAddress", "variable": "aws:SourceIp", "values": ["10.0.0.0/8"]},
                    ],
                }
            ]
        },
    )
    (statement,) = json.loads(answer["json"])["Statement"]
    assert statement["Condition"] == {"IpAddress": {"aws:SourceIp": ["0.0.0.0/0", "10.0.0.0/8"]}}
