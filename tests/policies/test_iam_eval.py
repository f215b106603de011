"""The IAM evaluator answers what AWS answers, conditions included, and refuses what it
cannot decide.

The first case is the one moto gets wrong (measured): a HeadBucket under a ListBucket
grant conditioned on `s3:prefix`. AWS authorizes HeadBucket as s3:ListBucket without any
`s3:prefix` in the request, so the condition fails and AWS denies it; moto allows it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.rules.iam_eval import (
    Request,
    Unmodelled,
    conditions_hold,
    decide,
    holds_whatever_else,
    pinned_values,
)

BUCKET = "arn:aws:s3:::mlops-dev-artifacts"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


PREFIX_ONLY = policy(
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": BUCKET,
        "Condition": {"StringLike": {"s3:prefix": ["mlflow", "mlflow/*"]}},
    },
    {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"{BUCKET}/mlflow/*",
    },
)
TLS_ONLY = policy(
    {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [BUCKET, f"{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    },
)
CALLER = {"AWS": "arn:aws:iam::123456789012:role/mlops-dev-mlflow"}


def s3(action: str, resource: str, **context: Any) -> Request:
    return Request(action, resource, {"aws:SecureTransport": True, **context}, CALLER)


def test_head_bucket_needs_list_bucket_without_a_prefix_condition() -> None:
    assert decide(s3("s3:ListBucket", BUCKET), [PREFIX_ONLY], TLS_ONLY).effect == "implicit-deny"
    grant = policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET})
    assert decide(s3("s3:ListBucket", BUCKET), [grant], TLS_ONLY).allowed


def test_listing_is_allowed_under_the_prefix_only() -> None:
    assert decide(s3("s3:ListBucket", BUCKET, **{"s3:prefix": "mlflow/1/"}), [PREFIX_ONLY]).allowed
    other = s3("s3:ListBucket", BUCKET, **{"s3:prefix": "teams/fraud/"})
    assert decide(other, [PREFIX_ONLY]).effect == "implicit-deny"
    assert decide(s3("s3:GetObject", f"{BUCKET}/mlflow/1/model.pkl"), [PREFIX_ONLY]).allowed
    assert not decide(s3("s3:GetObject", f"{BUCKET}/teams/fraud/m.pkl"), [PREFIX_ONLY]).allowed


def test_an_explicit_deny_in_the_resource_policy_wins() -> None:
    plain = Request("s3:GetObject", f"{BUCKET}/mlflow/x", {"aws:SecureTransport": False}, CALLER)
    decision = decide(plain, [PREFIX_ONLY], TLS_ONLY)
    assert decision.effect == "deny" and decision.statement is not None


def test_a_resource_policy_alone_allows_within_the_account() -> None:
    bucket_grant = policy(
        {
            "Effect": "Allow",
            "Principal": CALLER,
            "Action": "s3:GetObject",
            "Resource": f"{BUCKET}/shared/*",
        }
    )
    assert decide(s3("s3:GetObject", f"{BUCKET}/shared/a"), [], bucket_grant).allowed
    stranger = Request(
        "s3:GetObject", f"{BUCKET}/shared/a", {}, {"AWS": "arn:aws:iam::123456789012:role/other"}
    )
    assert not decide(stranger, [], bucket_grant).allowed


@pytest.mark.parametrize(
    ("block", "context", "holds"),
    [
        # a missing key: positive operators fail, negated ones hold, IfExists holds
        ({"StringEquals": {"aws:SourceVpce": "vpce-1"}}, {}, False),
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}, {}, True),
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}, {"aws:SourceVpce": "vpce-1"}, False),
        ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, {}, True),
        ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, {"aws:SourceVpce": "v2"}, False),
        ({"Null": {"aws:SourceVpce": "true"}}, {}, True),
        ({"Null": {"aws:SourceVpce": "false"}}, {}, False),
        # keys are case-insensitive, values are not (unless IgnoreCase)
        ({"StringEquals": {"AWS:SourceVpce": "vpce-1"}}, {"aws:sourcevpce": "vpce-1"}, True),
        ({"StringEquals": {"aws:SourceVpce": "VPCE-1"}}, {"aws:SourceVpce": "vpce-1"}, False),
        ({"StringEqualsIgnoreCase": {"k": "ABC"}}, {"k": "abc"}, True),
        # several values: any one
        ({"StringLike": {"s3:prefix": ["a/*", "b/*"]}}, {"s3:prefix": "b/x"}, True),
        ({"StringNotLike": {"s3:prefix": ["a/*", "b/*"]}}, {"s3:prefix": "b/x"}, False),
        # multi-valued keys
        (
            {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/a"}},
            {"kms:ResourceAliases": ["alias/b", "alias/a"]},
            True,
        ),
        ({"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/a"}}, {}, False),
        (
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "owner"]}},
            {"aws:TagKeys": ["team", "cost"]},
            False,
        ),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, {}, True),
        # other operators
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": True}, False),
        ({"NumericLessThan": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": "1.3"}, False),
        ({"NumericNotEquals": {"n": ["1", "2"]}}, {"n": "2"}, False),
        ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.9"}, True),
        ({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "10.0.0.1"}, True),
        (
            {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::b*"}},
            {"aws:SourceArn": "arn:aws:s3:::bx"},
            True,
        ),
        (
            {"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}},
            {"aws:CurrentTime": "2026-11-30T00:00:00Z"},
            True,
        ),
    ],
)
def test_conditions_as_aws_evaluates_them(
    block: dict[str, Any], context: dict[str, Any], holds: bool
) -> None:
    assert conditions_hold(block, context) is holds


def test_actions_match_case_insensitively_with_wildcards_and_not_action() -> None:
    read = policy({"Effect": "Allow", "Action": "S3:get*", "Resource": "*"})
    assert decide(Request("s3:GetObject", f"{BUCKET}/x"), [read]).allowed
    assert not decide(Request("s3:PutObject", f"{BUCKET}/x"), [read]).allowed
    all_but_iam = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide(Request("ec2:RunInstances", "*"), [all_but_iam]).allowed
    assert not decide(Request("iam:CreateRole", "arn:aws:iam::1:role/x"), [all_but_iam]).allowed


def test_not_resource_allows_everything_else() -> None:
    everything_else = policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET}/secret/*"}
    )
    assert decide(Request("s3:GetObject", "arn:aws:s3:::other/x"), [everything_else]).allowed
    assert not decide(Request("s3:GetObject", f"{BUCKET}/secret/k"), [everything_else]).allowed


def test_a_web_identity_trust_admits_exactly_its_subject() -> None:
    provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": "repo:org/repo:environment:staging",
                }
            },
        }
    )

    def assume(sub: str, provider_arn: str = provider) -> bool:
        context = {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": sub,
        }
        request = Request(
            "sts:AssumeRoleWithWebIdentity", "*", context, {"Federated": provider_arn}
        )
        return decide(request, [], trust).allowed

    assert assume("repo:org/repo:environment:staging")
    assert not assume("repo:org/repo:ref:refs/heads/main")
    assert not assume(
        "repo:org/repo:environment:staging", "arn:aws:iam::123456789012:oidc-provider/other"
    )


@pytest.mark.parametrize(
    "statement",
    [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"StringFancy": {"k": "v"}},
        },
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/${aws:username}/*",
        },
        {"Effect": "Allow", "Action": "GetObject", "Resource": "*"},
        {"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Resource": "*"},
    ],
)
def test_what_it_cannot_decide_is_refused_not_guessed(statement: dict[str, Any]) -> None:
    with pytest.raises(Unmodelled):
        decide(Request("s3:GetObject", "arn:aws:s3:::b/alice/x", {"k": "v"}), [policy(statement)])


# ------------------------------------------------------------------ what a condition pins
@pytest.mark.parametrize(
    ("block", "key", "pinned"),
    [
        # the miss: a key present under an operator that admits anyone is no scope
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}, "aws:SourceVpce", []),
        ({"StringEquals": {"aws:SourceVpce": "vpce-1"}}, "aws:sourcevpce", ["vpce-1"]),
        ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, "aws:SourceVpce", []),
        ({"StringLike": {"aws:SourceVpce": "vpce-*"}}, "aws:SourceVpce", []),
        ({"StringLike": {"aws:SourceVpce": "vpce-1"}}, "aws:SourceVpce", ["vpce-1"]),
        ({"Null": {"aws:SourceVpce": "false"}}, "aws:SourceVpce", []),
        (
            {
                "StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]},
                "StringNotEquals": {"aws:SourceVpce": "vpce-2"},
            },
            "aws:SourceVpce",
            ["vpce-1"],
        ),
        (
            {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/a"}},
            "kms:ResourceAliases",
            ["alias/a"],
        ),
        (
            {"ForAllValues:StringEquals": {"kms:ResourceAliases": "alias/a"}},
            "kms:ResourceAliases",
            [],
        ),
        ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, "aws:SourceIp", ["203.0.113.0/24"]),
        ({"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}}, "aws:SourceIp", []),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, "aws:SourceIp", []),
        ({"StringEquals": {"aws:SourceAccount": "1"}}, "aws:SourceVpce", []),
    ],
)
def test_pinned_values_evaluate_the_operator_not_the_key(
    block: dict[str, Any], key: str, pinned: list[str]
) -> None:
    assert pinned_values(block, key) == pinned


@pytest.mark.parametrize(
    ("block", "holds"),
    [
        ({"Bool": {"aws:SecureTransport": "false"}}, True),
        ({"BoolIfExists": {"aws:SecureTransport": "false"}}, True),
        # a plain-HTTP request carries no TLS version: this alone denies nothing
        ({"NumericLessThan": {"s3:TlsVersion": "1.2"}}, False),
        # narrowed to some requests: the others get through without TLS
        (
            {
                "Bool": {"aws:SecureTransport": "false"},
                "StringEquals": {"aws:SourceVpce": "vpce-1"},
            },
            False,
        ),
        (
            {
                "Bool": {"aws:SecureTransport": "false"},
                "StringNotEquals": {"aws:SourceVpce": "vpce-1"},
            },
            False,
        ),
        (
            {
                "Bool": {"aws:SecureTransport": "false"},
                "NumericLessThanIfExists": {"s3:TlsVersion": "1.2"},
            },
            False,
        ),
    ],
)
def test_holds_whatever_else_the_request_carries(block: dict[str, Any], holds: bool) -> None:
    assert holds_whatever_else(block, {"aws:SecureTransport": False}) is holds


def test_probing_refuses_what_it_cannot_evaluate() -> None:
    with pytest.raises(Unmodelled):
        pinned_values({"StringFancy": {"aws:SourceVpce": "v"}}, "aws:SourceVpce")
    with pytest.raises(Unmodelled):  # a policy variable: whose value is it?
        pinned_values({"StringEquals": {"aws:SourceVpce": "${aws:username}"}}, "aws:SourceVpce")
    with pytest.raises(Unmodelled):
        holds_whatever_else({"BinaryEquals": {"k": "QUJD"}}, {})


# ------------------------------------------------------------------ the action database
def test_actions_expand_against_aws_reference_with_access_levels() -> None:
    from policies.rules.iam_actions import expand

    got = {a.key: a.levels for a in expand("secretsmanager:Get*")}
    assert got["secretsmanager:GetSecretValue"] == {"Read"}
    assert {a.key for a in expand("S3:getobject")} == {"s3:GetObject"}
    assert "Permissions management" in expand("iam:PutRolePolicy")[0].levels
    assert expand("ecr:GetAuthorizationToken")[0].arn_formats == ()  # only "*"


def test_an_action_aws_does_not_document_is_refused() -> None:
    from policies.rules.iam_actions import UnknownAction, expand

    with pytest.raises(UnknownAction, match="names no action"):
        expand("s3:GetObjekt")
    with pytest.raises(Unmodelled):
        expand("GetObject")


@pytest.mark.parametrize(
    ("statement", "wild"),
    [
        ({"Resource": "*"}, ["*"]),
        ({"Resource": "arn:aws:s3:::*/*"}, ["arn:aws:s3:::*/*"]),
        ({"Resource": "arn:aws:s3:::*"}, ["arn:aws:s3:::*"]),
        ({"Resource": "arn:*"}, ["arn:*"]),
        ({"Resource": "arn:aws:s3:::*x*/*"}, ["arn:aws:s3:::*x*/*"]),  # any bucket with an x
        ({"Resource": ["arn:aws:s3:::acme/*", "arn:aws:s3:::acme-*/x"]}, []),
        ({"NotResource": "arn:aws:s3:::acme/secret/*"}, ["NotResource"]),
        ({"NotResource": "*"}, []),
    ],
)
def test_a_wildcard_resource_is_one_that_covers_any_name(
    statement: dict[str, Any], wild: list[str]
) -> None:
    from policies.rules.iam_actions import expand, wildcard_resources

    assert wildcard_resources(statement, expand("s3:GetObject")[0]) == wild


def test_not_action_expands_to_every_other_action() -> None:
    from policies.rules.iam_actions import statement_actions

    keys = {a.key for a in statement_actions({"NotAction": "iam:*"})}
    assert "s3:GetObject" in keys and "secretsmanager:GetSecretValue" in keys
    assert not any(k.startswith("iam:") for k in keys)
