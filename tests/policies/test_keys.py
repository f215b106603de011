"""Keys and secrets: key and secret policies stay in the account, secrets use a CMK."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import messages, res, unseen

KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
GRANT = "aws:kms/grant:Grant"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
OWN = "123456789012"
OTHER = "999999999999"
LOG_GROUP = f"arn:aws:logs:us-east-1:{OWN}:log-group:/aws/eks/acme/cluster"
ADMINISTERS = {
    "Sid": "AccountAdministers",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{OWN}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
LOGS = {
    "Sid": "Logs",
    "Effect": "Allow",
    "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
    "Resource": "*",
    "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP}},
}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def key(*statements: dict[str, Any], **inputs: Any) -> list[dict[str, Any]]:
    return [res(KEY, "k", {"enableKeyRotation": True, "policy": doc(*statements), **inputs})]


# ------------------------------------------------------------------ key policies
def test_kms_key_policy_of_the_account_and_a_pinned_service_passes() -> None:
    # the platform's own key policy shape, with and without the stack's account configured
    assert messages("kms-key-policy-account-only", key(ADMINISTERS, LOGS)) == []
    assert (
        messages("kms-key-policy-account-only", key(ADMINISTERS, LOGS), {"account_ids": [OWN]})
        == []
    )
    # a key without a policy gets AWS's default policy (the account administers)
    assert messages("kms-key-policy-account-only", [res(KEY, "k", {})]) == []


def test_kms_key_policy_granting_kms_star_to_anyone() -> None:
    anyone = {
        "Sid": "Open",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
    }
    assert messages("kms-key-policy-account-only", key(ADMINISTERS, anyone)) == [
        "Statement Open allows kms:* to every principal ('*') without a fixed "
        "aws:PrincipalAccount, kms:CallerAccount or aws:PrincipalArn of this account."
    ]


@pytest.mark.parametrize(
    "statement",
    [
        # the caller-account key is present, under an operator that admits everyone else
        {
            "Sid": "Open",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"kms:CallerAccount": OTHER}},
        },
        {
            "Sid": "Open",
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEqualsIfExists": {"kms:CallerAccount": OWN}},
        },
        {
            "Sid": "Open",
            "Effect": "Allow",
            "NotPrincipal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
    ],
)
def test_kms_key_policy_star_with_conditions_that_do_not_pin(statement: dict[str, Any]) -> None:
    found = messages("kms-key-policy-account-only", key(ADMINISTERS, statement))
    assert len(found) == 1 and "to every principal ('*')" in found[0]


def test_kms_key_policy_star_pinned_to_the_callers_account_passes() -> None:
    pinned = {
        "Sid": "Pinned",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:CallerAccount": OWN,
                "kms:ViaService": "s3.us-east-1.amazonaws.com",
            }
        },
    }
    assert messages("kms-key-policy-account-only", key(ADMINISTERS, pinned)) == []


def test_kms_key_policy_granting_another_account() -> None:
    foreign = {
        "Sid": "Foreign",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:role/x"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    # without account_ids: two accounts, and only one can be the key's own
    assert messages("kms-key-policy-account-only", key(ADMINISTERS, foreign)) == [
        f"The key policy grants to several accounts ({OWN}, {OTHER}); only one is this "
        "stack's: list the stack's accounts in account_ids."
    ]
    assert messages(
        "kms-key-policy-account-only", key(ADMINISTERS, foreign), {"account_ids": [OWN]}
    ) == [
        f"Statement Foreign allows kms:Decrypt to account(s) {OTHER}, outside this stack's "
        f"account ({OWN})."
    ]


def test_kms_key_policy_unpinned_or_foreign_service_principal() -> None:
    unpinned = {**LOGS, "Condition": {}}
    assert messages("kms-key-policy-account-only", key(ADMINISTERS, unpinned)) == [
        "Statement Logs lets logs.us-east-1.amazonaws.com use it for any account: pin "
        "aws:SourceAccount, aws:SourceArn or the encryption context to this account's resources."
    ]
    foreign = {**LOGS, "Condition": {"StringEquals": {"aws:SourceAccount": OTHER}}}
    assert messages(
        "kms-key-policy-account-only", key(ADMINISTERS, foreign), {"account_ids": [OWN]}
    ) == [
        f"Statement Logs lets logs.us-east-1.amazonaws.com use it for account(s) {OTHER}, "
        "outside this stack's account."
    ]


def test_kms_key_policy_set_elsewhere_and_lockout_bypass() -> None:
    anyone = {
        "Sid": "Open",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
    }
    rs = [res(KEY_POLICY, "kp", {"keyId": "k", "policy": doc(ADMINISTERS, anyone)})]
    assert len(messages("kms-key-policy-account-only", rs)) == 1
    bypass = key(ADMINISTERS, bypassPolicyLockoutSafetyCheck=True)
    assert messages("kms-key-policy-account-only", bypass) == [
        "bypassPolicyLockoutSafetyCheck is on: the key policy may lock this account out of "
        "its own key."
    ]
    secret = [res(KEY, "k", {"policy": "[secret]"})]
    assert messages("kms-key-policy-account-only", secret) == [unseen(".policy")]


def test_kms_grant_to_another_account() -> None:
    grant = [
        res(
            GRANT,
            "g",
            {
                "keyId": "k",
                "operations": ["Decrypt"],
                "granteePrincipal": f"arn:aws:iam::{OTHER}:role/x",
            },
        )
    ]
    assert messages("kms-key-policy-account-only", grant, {"account_ids": [OWN]}) == [
        f"Grant gives granteePrincipal to account {OTHER}, outside this stack's account ({OWN})."
    ]
    own = [
        res(
            GRANT,
            "g",
            {
                "keyId": "k",
                "operations": ["Decrypt"],
                "granteePrincipal": f"arn:aws:iam::{OWN}:role/x",
            },
        )
    ]
    assert messages("kms-key-policy-account-only", own, {"account_ids": [OWN]}) == []


# ------------------------------------------------------------------ secrets
def test_secretsmanager_secret_policy_account_only() -> None:
    public = {
        "Sid": "Open",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "*",
    }
    own = {
        "Sid": "Reader",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OWN}:role/reader"},
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "*",
    }
    assert (
        len(
            messages(
                "secretsmanager-secret-policy-account-only",
                [res(SECRET_POLICY, "sp", {"secretArn": "s", "policy": doc(public)})],
            )
        )
        == 1
    )
    assert (
        len(
            messages(
                "secretsmanager-secret-policy-account-only",
                [res(SECRET, "s", {"kmsKeyId": "k", "policy": doc(public)})],
            )
        )
        == 1
    )
    assert (
        messages(
            "secretsmanager-secret-policy-account-only",
            [res(SECRET_POLICY, "sp", {"secretArn": "s", "policy": doc(own)})],
            {"account_ids": [OWN]},
        )
        == []
    )


def test_secret_policy_naming_one_foreign_account_is_not_taken_as_the_stacks() -> None:
    """Unlike a key policy (AWS refuses one that locks its account out), a secret's policy
    may name only another account: that account is not thereby the stack's own."""
    foreign = {
        "Sid": "Share",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "*",
    }
    rule = "secretsmanager-secret-policy-account-only"
    inline = [res(SECRET, "s", {"kmsKeyId": "k", "policy": doc(foreign)})]
    assert messages(rule, inline) == [
        f"Statement Share allows secretsmanager:GetSecretValue to account(s) {OTHER}, which "
        "the rule cannot tell are this stack's: list the stack's accounts in account_ids."
    ]
    arn = f"arn:aws:secretsmanager:us-east-1:{OWN}:secret:acme/db-AbCdEf"
    shared = [res(SECRET_POLICY, "sp", {"secretArn": arn, "policy": doc(foreign)})]
    assert messages(rule, shared) == [
        f"Statement Share allows secretsmanager:GetSecretValue to account(s) {OTHER}, "
        f"outside this stack's account ({OWN})."
    ]
    # the account the secret's ARN shows is the stack's own, with no config
    own = {**foreign, "Principal": {"AWS": f"arn:aws:iam::{OWN}:role/reader"}}
    mine = [res(SECRET_POLICY, "sp", {"secretArn": arn, "policy": doc(own)})]
    assert messages(rule, mine) == []


CMK = f"arn:aws:kms:us-east-1:{OWN}:key/0000-1111"


def test_secretsmanager_secret_cmk_passes_a_customer_managed_key() -> None:
    rs = [
        res(
            SECRET,
            "s",
            {
                "name": "acme/db",
                "kmsKeyId": CMK,
                "replicas": [{"region": "eu-west-1", "kmsKeyId": "alias/acme-db"}],
            },
        )
    ]
    assert messages("secretsmanager-secret-cmk", rs) == []


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"name": "acme/db"},
            "kmsKeyId is not set: Secrets Manager then uses the AWS-managed key "
            "aws/secretsmanager, whose policy this stack cannot scope.",
        ),
        (
            {"name": "acme/db", "kmsKeyId": "alias/aws/secretsmanager"},
            "kmsKeyId 'alias/aws/secretsmanager' is an AWS-managed key, "
            "not a customer-managed one.",
        ),
        (
            {
                "name": "acme/db",
                "kmsKeyId": f"arn:aws:kms:us-east-1:{OWN}:alias/aws/secretsmanager",
            },
            f"kmsKeyId 'arn:aws:kms:us-east-1:{OWN}:alias/aws/secretsmanager' is an AWS-managed "
            "key, not a customer-managed one.",
        ),
        (
            {"name": "acme/db", "kmsKeyId": CMK, "replicas": [{"region": "eu-west-1"}]},
            "replicas[0].kmsKeyId is not set: Secrets Manager then uses the AWS-managed key "
            "aws/secretsmanager, whose policy this stack cannot scope.",
        ),
        ({"name": "acme/db", "kmsKeyId": "[secret]"}, unseen(".kmsKeyId")),
    ],
)
def test_secret_without_cmk(inputs: dict[str, Any], message: str) -> None:
    assert messages("secretsmanager-secret-cmk", [res(SECRET, "s", inputs)]) == [message]
