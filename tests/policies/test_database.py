"""Database rules: RDS, ElastiCache, DynamoDB."""

from __future__ import annotations

from typing import Any

import pytest
from harness import BY_NAME, messages, res, secret

from policies.offline import PayloadError, evaluate

RDS = "aws:rds/instance:Instance"
KEY = "arn:aws:kms:us-east-1:123456789012:key/abcd"
RDS_OK: dict[str, Any] = {
    "storageEncrypted": True,
    "kmsKeyId": KEY,
    "publiclyAccessible": False,
    "backupRetentionPeriod": 30,
    "deletionProtection": True,
    "skipFinalSnapshot": False,
    "multiAz": True,
    "password": secret("correct horse battery staple"),
}
RDS_POLICIES = [
    "rds-storage-encrypted",
    "rds-not-publicly-accessible",
    "rds-backup-retention",
    "rds-deletion-protection",
    "rds-multi-az",
]


@pytest.mark.parametrize("policy", RDS_POLICIES)
def test_rds_rules_pass_a_hardened_instance(policy: str) -> None:
    assert messages(policy, [res(RDS, "db", RDS_OK)]) == []


@pytest.mark.parametrize(
    ("policy", "change", "message"),
    [
        (
            "rds-storage-encrypted",
            {"storageEncrypted": False},
            "Storage is not encrypted (storageEncrypted).",
        ),
        (
            "rds-storage-encrypted",
            {"kmsKeyId": None},
            "Storage is encrypted with the AWS-managed key: "
            "set kmsKeyId to a customer-managed key.",
        ),
        (
            "rds-not-publicly-accessible",
            {"publiclyAccessible": True},
            "The database is publicly accessible (publiclyAccessible).",
        ),
        (
            "rds-backup-retention",
            {"backupRetentionPeriod": 3},
            "Backups are kept 3 day(s); at least 7 required (backupRetentionPeriod).",
        ),
        (
            "rds-backup-retention",
            {"backupRetentionPeriod": None},
            "Backups are kept the default 1 day(s); at least 7 required (backupRetentionPeriod).",
        ),
        (
            "rds-deletion-protection",
            {"deletionProtection": False},
            "Deletion protection is off (deletionProtection).",
        ),
        (
            "rds-deletion-protection",
            {"skipFinalSnapshot": True},
            "No final snapshot is taken on deletion (skipFinalSnapshot).",
        ),
        (
            "rds-multi-az",
            {"multiAz": False},
            "The instance runs in a single availability zone (multiAz).",
        ),
    ],
)
def test_rds_rules_fail(policy: str, change: dict[str, Any], message: str) -> None:
    inputs = {k: v for k, v in {**RDS_OK, **change}.items() if v is not None}
    assert messages(policy, [res(RDS, "db", inputs)]) == [message]


def test_rds_config_relaxes_rules_for_dev() -> None:
    dev = {**RDS_OK, "deletionProtection": False, "multiAz": False, "backupRetentionPeriod": 1}
    assert messages("rds-backup-retention", [res(RDS, "db", dev)], {"minimum_days": 1}) == []


def test_config_cannot_make_rds_deletion_protection_or_multi_az_unable_to_fail() -> None:
    """dev's `required: false` used to turn both rules off; now dev lowers them to
    advisory, where they still evaluate and report."""
    dev_db = res(RDS, "db", {**RDS_OK, "deletionProtection": False, "multiAz": False})
    for policy in ("rds-deletion-protection", "rds-multi-az"):
        with pytest.raises(PayloadError, match=rf"config\.{policy}: unknown propert\(ies\) "
                                               "required"):
            messages(policy, [dev_db], {"required": False})
        found = evaluate({"environment": "dev", "config": {policy: "advisory"},
                          "resources": [dev_db]}, [BY_NAME[policy]])["violations"]
        assert [v["enforcement"] for v in found] == ["advisory"]


CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_OK = {
    "atRestEncryptionEnabled": True,
    "transitEncryptionEnabled": True,
    "authToken": secret("an-auth-token-of-32-characters!!"),
}


def test_elasticache_encrypted_passes() -> None:
    assert messages("elasticache-encrypted", [res(CACHE, "c", CACHE_OK)]) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"atRestEncryptionEnabled": False},
            "Data at rest is not encrypted (atRestEncryptionEnabled).",
        ),
        (
            {"transitEncryptionEnabled": False},
            "Traffic is not encrypted in transit (transitEncryptionEnabled).",
        ),
        ({"authToken": ""}, "No AUTH token or user group: any client in the network can connect."),
    ],
)
def test_elasticache_encrypted_fails(change: dict[str, Any], message: str) -> None:
    assert messages("elasticache-encrypted", [res(CACHE, "c", {**CACHE_OK, **change})]) == [message]


TABLE = "aws:dynamodb/table:Table"
TABLE_OK = {
    "pointInTimeRecovery": {"enabled": True},
    "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY},
}


def test_dynamodb_table_protected_passes() -> None:
    assert messages("dynamodb-table-protected", [res(TABLE, "t", TABLE_OK)]) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"pointInTimeRecovery": {"enabled": False}},
            "Point-in-time recovery is off (pointInTimeRecovery.enabled).",
        ),
        (
            {"serverSideEncryption": {"enabled": True}},
            "The table is not encrypted with a customer-managed KMS key "
            "(serverSideEncryption.kmsKeyArn).",
        ),
    ],
)
def test_dynamodb_table_protected_fails(change: dict[str, Any], message: str) -> None:
    assert messages("dynamodb-table-protected", [res(TABLE, "t", {**TABLE_OK, **change})]) == [
        message
    ]
