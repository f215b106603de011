"""Identity rules: wildcard actions/resources, IRSA and GitHub trust, admin attachments."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import messages, res, unseen

POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF"
GITHUB = "token.actions.githubusercontent.com"
SCOPED = {
    "Sid": "Prefix",
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:PutObject"],
    "Resource": "arn:aws:s3:::acme-artifacts/teams/risk/*",
}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(issuer: str, conditions: dict[str, Any]) -> str:
    return doc(
        {
            "Sid": "Trust",
            "Effect": "Allow",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"},
            "Condition": conditions,
        }
    )


IRSA_OK = {
    "StringEquals": {
        f"{ISSUER}:sub": "system:serviceaccount:team-risk:trainer",
        f"{ISSUER}:aud": "sts.amazonaws.com",
    }
}
GITHUB_OK = {
    "StringEquals": {
        f"{GITHUB}:aud": "sts.amazonaws.com",
        f"{GITHUB}:sub": "repo:acme/ml-platform:environment:prod",
    }
}


# ------------------------------------------------------------------ wildcard actions
def test_iam_no_wildcard_actions_passes_named_actions() -> None:
    rs = [
        res(POLICY, "p", {"policy": doc(SCOPED, {**SCOPED, "Action": "iam:Get*"})}),
        res(
            ROLE,
            "r",
            {"assumeRolePolicy": "{}", "inlinePolicies": [{"name": "x", "policy": doc(SCOPED)}]},
        ),
    ]
    assert messages("iam-no-wildcard-actions", rs) == []


@pytest.mark.parametrize(
    ("type_", "inputs", "message"),
    [
        (
            POLICY,
            {"policy": doc({**SCOPED, "Action": "*"})},
            "policy: statement Prefix allows action '*'.",
        ),
        (
            ROLE_POLICY,
            {"role": "r", "policy": doc({**SCOPED, "Action": ["s3:*"]})},
            "policy: statement Prefix allows action 's3:*'.",
        ),
        (
            ROLE,
            {"inlinePolicies": [{"name": "inline", "policy": doc({**SCOPED, "Action": "*"})}]},
            "inline policy 'inline': statement Prefix allows action '*'.",
        ),
        (
            POLICY,
            {
                "policy": doc(
                    {
                        "Sid": "N",
                        "Effect": "Allow",
                        "NotAction": "iam:*",
                        "Resource": "arn:aws:s3:::b",
                    }
                )
            },
            "policy: statement N allows NotAction (everything else).",
        ),
    ],
)
def test_iam_no_wildcard_actions_fails(type_: str, inputs: dict[str, Any], message: str) -> None:
    assert messages("iam-no-wildcard-actions", [res(type_, "p", inputs)]) == [message]


def test_iam_rules_report_a_document_they_cannot_see() -> None:
    """A policy the plan shows only as [secret] is not an empty policy: every rule that
    reads it says it could not see it."""
    rs = [
        res(POLICY, "secret", {"policy": "[secret]"}),
        res(ROLE, "r", {"assumeRolePolicy": "[secret]"}),
    ]
    assert messages("iam-no-wildcard-actions", rs) == [unseen(".policy")]
    assert messages("iam-no-wildcard-resource-on-write", rs) == [unseen(".policy")]
    for policy in ("iam-irsa-trust-pinned", "iam-github-oidc-trust-pinned"):
        assert messages(policy, rs) == [unseen(".assumeRolePolicy")]


# ------------------------------------------------------------------ wildcard resource
def test_iam_no_wildcard_resource_on_write_passes_reads_and_scoped_writes() -> None:
    rs = [
        res(
            POLICY,
            "p",
            {
                "policy": doc(
                    SCOPED,
                    {
                        "Sid": "Login",
                        "Effect": "Allow",
                        "Action": "ecr:GetAuthorizationToken",
                        "Resource": "*",
                    },
                    {
                        "Sid": "Slr",
                        "Effect": "Allow",
                        "Action": "iam:CreateServiceLinkedRole",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"iam:AWSServiceName": "eks.amazonaws.com"}},
                    },
                    {
                        "Sid": "DenyAll",
                        "Effect": "Deny",
                        "Action": "s3:DeleteBucket",
                        "Resource": "*",
                    },
                )
            },
        )
    ]
    assert messages("iam-no-wildcard-resource-on-write", rs) == []


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            {**SCOPED, "Resource": "*"},
            "policy: statement Prefix allows write action(s) s3:PutObject on Resource '*'.",
        ),
        (
            {
                "Sid": "Pass",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": ["*"],
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            },
            "policy: statement Pass allows write action(s) iam:PassRole on Resource '*'.",
        ),
    ],
)
def test_iam_no_wildcard_resource_on_write_fails(statement: dict[str, Any], message: str) -> None:
    rs = [res(ROLE_POLICY, "p", {"role": "r", "policy": doc(statement)})]
    assert messages("iam-no-wildcard-resource-on-write", rs) == [message]


def test_iam_scoping_condition_keys_are_configurable() -> None:
    st = {
        "Sid": "Pass",
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
    }
    rs = [res(POLICY, "p", {"policy": doc(st)})]
    assert (
        messages(
            "iam-no-wildcard-resource-on-write",
            rs,
            {"scoping_condition_keys": ["aws:RequestedRegion"]},
        )
        == []
    )


# ------------------------------------------------------------------ IRSA trust
def test_iam_irsa_trust_pinned_passes() -> None:
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(ISSUER, IRSA_OK)})]
    assert messages("iam-irsa-trust-pinned", rs) == []


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        (
            {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}},
            f"Statement Trust trusts {ISSUER} without StringEquals on '{ISSUER}:sub'.",
        ),
        (
            {
                "StringLike": {f"{ISSUER}:sub": "system:serviceaccount:*:*"},
                "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
            },
            f"Statement Trust trusts {ISSUER} without StringEquals on '{ISSUER}:sub' "
            "(StringLike is not a pin).",
        ),
        (
            {
                "StringEquals": {
                    f"{ISSUER}:sub": "system:serviceaccount:team-risk:*",
                    f"{ISSUER}:aud": "sts.amazonaws.com",
                }
            },
            f"Statement Trust: '{ISSUER}:sub' must name system:serviceaccount:<namespace>:<name>, "
            "got ['system:serviceaccount:team-risk:*'].",
        ),
        (
            {"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:team-risk:trainer"}},
            f"Statement Trust: '{ISSUER}:aud' must be StringEquals 'sts.amazonaws.com', got None.",
        ),
    ],
)
def test_iam_irsa_trust_pinned_fails(conditions: dict[str, Any], message: str) -> None:
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(ISSUER, conditions)})]
    assert messages("iam-irsa-trust-pinned", rs) == [message]


# ------------------------------------------------------------------ GitHub trust
def test_iam_github_oidc_trust_pinned_passes() -> None:
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(GITHUB, GITHUB_OK)})]
    assert messages("iam-github-oidc-trust-pinned", rs) == []


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        (
            {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}},
            f"Statement Trust trusts every GitHub repository: pin '{GITHUB}:sub'.",
        ),
        (
            {
                "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
                "StringLike": {f"{GITHUB}:sub": "repo:acme/*"},
            },
            f"Statement Trust: '{GITHUB}:sub' value 'repo:acme/*' does not pin one repository "
            "(repo:<owner>/<name>:...).",
        ),
        (
            {"StringEquals": {f"{GITHUB}:sub": "repo:acme/ml-platform:ref:refs/heads/main"}},
            f"Statement Trust: '{GITHUB}:aud' must be StringEquals 'sts.amazonaws.com', got None.",
        ),
    ],
)
def test_iam_github_oidc_trust_pinned_fails(conditions: dict[str, Any], message: str) -> None:
    rs = [res(ROLE, "r", {"assumeRolePolicy": trust(GITHUB, conditions)})]
    assert messages("iam-github-oidc-trust-pinned", rs) == [message]


# ------------------------------------------------------------------ admin attachments
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def test_iam_no_admin_policy_attachment_passes() -> None:
    rs = [
        res(
            ATTACH,
            "a",
            {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"},
        )
    ]
    assert messages("iam-no-admin-policy-attachment", rs) == []


def test_iam_no_admin_policy_attachment_fails() -> None:
    rs = [
        res(
            ROLE,
            "r",
            {
                "assumeRolePolicy": "{}",
                "managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
            },
        )
    ]
    assert messages("iam-no-admin-policy-attachment", rs) == [
        "Attaches 'arn:aws:iam::aws:policy/AdministratorAccess'."
    ]
