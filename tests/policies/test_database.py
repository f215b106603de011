"""Database rules: RDS, ElastiCache, DynamoDB."""

from __future__ import annotations

from typing import Any

import pytest
from harness import BY_NAME, messages, res, secret, unseen

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
            "rds-storage-encrypted",
            {"kmsKeyId": "alias/aws/rds"},
            "Storage is not encrypted with a customer-managed key (kmsKeyId): 'alias/aws/rds' "
            "is an AWS-managed key.",
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
        with pytest.raises(
            PayloadError,
            match=rf"config\.{policy}: unknown propert\(ies\) "
            "required",
        ):
            messages(policy, [dev_db], {"required": False})
        found = evaluate(
            {"environment": "dev", "config": {policy: "advisory"}, "resources": [dev_db]},
            [BY_NAME[policy]],
        )["violations"]
        assert [v["enforcement"] for v in found] == ["advisory"]


CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_OK = {
    "atRestEncryptionEnabled": True,
    "transitEncryptionEnabled": True,
    "authToken": secret("an-auth-token-of-32-characters!!"),
}


def test_elasticache_encrypted_passes() -> None:
    assert messages("elasticache-encrypted", [res(CACHE, "c", CACHE_OK)]) == []
    group = res(CACHE, "c", {**CACHE_OK, "replicationGroupId": "feast"})
    member = res(
        "aws:elasticache/cluster:Cluster",
        "member",
        {"replicationGroupId": "feast"},
        deps={"replicationGroupId": [group]},
    )
    users = user_group("ug-1", APP_USER, OWN_DEFAULT)
    serverless = res(
        "aws:elasticache/serverlessCache:ServerlessCache",
        "s",
        {"engine": "valkey", "userGroupId": "ug-1"},
        deps={"userGroupId": [users[-1]]},
    )
    memorydb = res("aws:memorydb/cluster:Cluster", "m", {"aclName": "app-users"})
    assert messages("elasticache-encrypted", [group, member, *users, serverless, memorydb]) == []


USER = "aws:elasticache/user:User"
USER_GROUP = "aws:elasticache/userGroup:UserGroup"
APP_USER = {
    "userId": "feast-app",
    "userName": "feast-app",
    "engine": "valkey",
    "accessString": "on ~feast:* +@read +@write",
    "authenticationMode": {"type": "password", "passwords": [secret("p" * 32)]},
}
# the user named 'default' every group must hold: one's own, switched off
OWN_DEFAULT = {
    "userId": "feast-default",
    "userName": "default",
    "engine": "valkey",
    "accessString": "off ~* -@all",
    "noPasswordRequired": True,
}


def user_group(group_id: str, *users: dict[str, Any], extra_ids: tuple[str, ...] = ()) -> list:
    """The users, then their group (last), linked as the plan links them."""
    made = [res(USER, u["userId"], u) for u in users]
    group = res(
        USER_GROUP,
        group_id,
        {
            "userGroupId": group_id,
            "engine": "valkey",
            "userIds": [u["userId"] for u in users] + list(extra_ids),
        },
        deps={"userIds": made},
    )
    return [*made, group]


def test_a_cache_user_group_lets_no_one_connect_without_a_password() -> None:
    def found(*rs: dict[str, Any]) -> list[str]:
        cache = res(
            CACHE,
            "c",
            {**CACHE_OK, "authToken": None, "userGroupIds": ["ug-1"]},
            deps={"userGroupIds": [r for r in rs if r["type"] == USER_GROUP]},
        )
        return messages("elasticache-encrypted", [*rs, cache])

    assert found(*user_group("ug-1", APP_USER, OWN_DEFAULT)) == []
    # AWS's own default user: no password, every command
    assert found(*user_group("ug-1", APP_USER, extra_ids=("default",))) == [
        "User group 'ug-1' holds AWS's built-in 'default' user, which needs no password and "
        "may run every command: any client in the network can connect (add a user named "
        "'default' of your own, switched off)."
    ]
    open_default = {**OWN_DEFAULT, "accessString": "on ~* +@all"}
    assert found(*user_group("ug-1", APP_USER, open_default)) == [
        "User group 'ug-1' holds user 'feast-default', which needs no password (access string "
        "'on ~* +@all'): any client in the network can connect as it."
    ]
    nopass = {**APP_USER, "authenticationMode": {"type": "no-password-required"}}
    assert found(*user_group("ug-1", nopass, OWN_DEFAULT)) == [
        "User group 'ug-1' holds user 'feast-app', which needs no password (access string "
        "'on ~feast:* +@read +@write'): any client in the network can connect as it."
    ]
    # a user added to the group by an association counts as much as one listed in it
    rs = user_group("ug-1", APP_USER, OWN_DEFAULT)
    added = res(
        "aws:elasticache/userGroupAssociation:UserGroupAssociation",
        "add",
        {"userGroupId": "ug-1", "userId": "default"},
        deps={"userGroupId": [rs[-1]]},
    )
    assert found(*rs, added) == [
        "User group 'ug-1' holds AWS's built-in 'default' user, which needs no password and "
        "may run every command: any client in the network can connect (add a user named "
        "'default' of your own, switched off)."
    ]


def test_a_cache_user_group_outside_the_plan_cannot_be_seen() -> None:
    cache = res(CACHE, "c", {**CACHE_OK, "authToken": None, "userGroupIds": ["ug-elsewhere"]})
    serverless = res(
        "aws:elasticache/serverlessCache:ServerlessCache",
        "s",
        {"engine": "valkey", "userGroupId": "ug-elsewhere"},
    )
    assert (
        messages("elasticache-encrypted", [cache, serverless])
        == ["User group 'ug-elsewhere' is not in the plan: who may connect cannot be seen."] * 2
    )


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
        (
            {"transitEncryptionMode": "preferred"},
            "transitEncryptionMode is 'preferred': clients may still connect in plain text (use "
            "'required').",
        ),
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
        (
            {
                "serverSideEncryption": {
                    "enabled": True,
                    "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/aws/dynamodb",
                }
            },
            "The table is not encrypted with a customer-managed KMS key "
            "(serverSideEncryption.kmsKeyArn): "
            "'arn:aws:kms:us-east-1:123456789012:alias/aws/dynamodb' is an AWS-managed key.",
        ),
    ],
)
def test_dynamodb_table_protected_fails(change: dict[str, Any], message: str) -> None:
    assert messages("dynamodb-table-protected", [res(TABLE, "t", {**TABLE_OK, **change})]) == [
        message
    ]


# ---- every cache shape, not only replication groups


@pytest.mark.parametrize(
    ("type_", "inputs", "message"),
    [
        (
            "aws:elasticache/cluster:Cluster",
            {"engine": "redis", "nodeType": "cache.t4g.micro", "numCacheNodes": 1},
            "A cache cluster outside a replication group cannot encrypt at rest or require AUTH: "
            "create an aws.elasticache.ReplicationGroup instead.",
        ),
        (
            "aws:elasticache/cluster:Cluster",
            {"engine": "memcached", "transitEncryptionEnabled": True, "numCacheNodes": 2},
            "A cache cluster outside a replication group cannot encrypt at rest or require AUTH: "
            "create an aws.elasticache.ReplicationGroup instead.",
        ),
        (
            "aws:elasticache/cluster:Cluster",
            {"replicationGroupId": "somebody-elses"},
            "The cluster joins replication group 'somebody-elses', which is not in the plan: its "
            "encryption and AUTH cannot be seen.",
        ),
        (
            "aws:elasticache/serverlessCache:ServerlessCache",
            {"engine": "redis"},
            "No user group (userGroupId): any client in the network can connect.",
        ),
        (
            "aws:elasticache/serverlessCache:ServerlessCache",
            {"engine": "memcached"},
            "A serverless Memcached cache cannot require authentication: use Valkey or Redis OSS "
            "with a user group.",
        ),
        (
            "aws:memorydb/cluster:Cluster",
            {"aclName": "open-access"},
            "ACL 'open-access' lets any client connect without authentication.",
        ),
    ],
    ids=[
        "redis-cluster-outside-group",
        "memcached-cluster",
        "member-of-unseen-group",
        "serverless-without-users",
        "serverless-memcached",
        "memorydb-open-access",
    ],
)
def test_elasticache_clusters_outside_replication_groups(
    type_: str, inputs: dict[str, Any], message: str
) -> None:
    assert messages("elasticache-encrypted", [res(type_, "c", inputs)]) == [message]


# ---- public data stores of every shape

AURORA_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"


@pytest.mark.parametrize(
    ("type_", "inputs", "message"),
    [
        (
            AURORA_INSTANCE,
            {"clusterIdentifier": "c", "publiclyAccessible": True},
            "The database is publicly accessible (publiclyAccessible).",
        ),
        (
            AURORA_INSTANCE,
            {"clusterIdentifier": "c", "dbSubnetGroupName": "default"},
            "publiclyAccessible is unset in the default DB subnet group, where AWS makes the "
            "instance public: set publiclyAccessible: false.",
        ),
        (
            "aws:rds/cluster:Cluster",
            {"dbClusterInstanceClass": "db.m6gd.large", "engine": "postgres"},
            "publiclyAccessible is unset on a Multi-AZ DB cluster without a DB subnet group, which "
            "AWS makes public: set publiclyAccessible: false.",
        ),
        (RDS, {**RDS_OK, "publiclyAccessible": "[secret]"}, unseen(".publiclyAccessible")),
    ],
    ids=[
        "public-aurora-instance",
        "aurora-default-subnets",
        "multi-az-cluster-default",
        "hidden-flag",
    ],
)
def test_public_rds_shapes(type_: str, inputs: dict[str, Any], message: str) -> None:
    assert messages("rds-not-publicly-accessible", [res(type_, "db", inputs)]) == [message]


def test_private_aurora_instance_passes() -> None:
    inputs = {"clusterIdentifier": "c", "dbSubnetGroupName": "private"}
    assert messages("rds-not-publicly-accessible", [res(AURORA_INSTANCE, "db", inputs)]) == []


@pytest.mark.parametrize(
    ("type_", "inputs", "why"),
    [
        (
            "aws:redshift/cluster:Cluster",
            {"publiclyAccessible": True},
            "it is publicly accessible (publiclyAccessible)",
        ),
        (
            "aws:redshiftserverless/workgroup:Workgroup",
            {"publiclyAccessible": True},
            "it is publicly accessible (publiclyAccessible)",
        ),
        (
            "aws:neptune/clusterInstance:ClusterInstance",
            {"publiclyAccessible": True},
            "it is publicly accessible (publiclyAccessible)",
        ),
        (
            "aws:dms/replicationInstance:ReplicationInstance",
            {},
            "publiclyAccessible is unset, and AWS makes it public by default",
        ),
        (
            "aws:lightsail/database:Database",
            {"publiclyAccessible": "true"},
            "it is publicly accessible (publiclyAccessible)",
        ),
        (
            "aws:opensearch/domain:Domain",
            {"domainName": "search"},
            "it has a public endpoint (no vpcOptions.subnetIds)",
        ),
        (
            "aws:msk/cluster:Cluster",
            {
                "brokerNodeGroupInfo": {
                    "connectivityInfo": {"publicAccess": {"type": "SERVICE_PROVIDED_EIPS"}}
                }
            },
            "its brokers are public (publicAccess.type 'SERVICE_PROVIDED_EIPS')",
        ),
        (
            "aws:rds/snapshotCopy:SnapshotCopy",
            {"sharedAccounts": ["all"]},
            "the snapshot is shared with every AWS account (sharedAccounts: all)",
        ),
        (
            "aws:rds/clusterSnapshot:ClusterSnapshot",
            {"sharedAccounts": ["123456789012", "all"]},
            "the snapshot is shared with every AWS account (sharedAccounts: all)",
        ),
        (
            "aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy",
            {
                "type": "network",
                "policy": '[{"Rules": [{"ResourceType": "collection", '
                '"Resource": ["collection/logs"]}], '
                '"AllowFromPublic": true}]',
            },
            "its network policy allows access from the public internet (AllowFromPublic)",
        ),
    ],
)
def test_data_store_not_publicly_accessible_fails(
    type_: str, inputs: dict[str, Any], why: str
) -> None:
    assert messages("data-store-not-publicly-accessible", [res(type_, "d", inputs)]) == [
        f"The data store is reachable from the internet: {why}."
    ]


@pytest.mark.parametrize(
    ("type_", "inputs"),
    [
        ("aws:redshift/cluster:Cluster", {}),
        ("aws:dms/replicationInstance:ReplicationInstance", {"publiclyAccessible": False}),
        ("aws:opensearch/domain:Domain", {"vpcOptions": {"subnetIds": ["subnet-1"]}}),
        ("aws:msk/cluster:Cluster", {"brokerNodeGroupInfo": {}}),
        ("aws:rds/snapshot:Snapshot", {"sharedAccounts": ["123456789012"]}),
        (
            "aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy",
            {
                "type": "network",
                "policy": '[{"AllowFromPublic": false, "SourceVPCEs": ["vpce-1"]}]',
            },
        ),
    ],
)
def test_data_store_not_publicly_accessible_passes(type_: str, inputs: dict[str, Any]) -> None:
    assert messages("data-store-not-publicly-accessible", [res(type_, "d", inputs)]) == []
