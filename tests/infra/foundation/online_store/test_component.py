"""OnlineStore built alone: Redis private and encrypted with a secret token, or DynamoDB."""

from __future__ import annotations

import json
from typing import Any

import pulumi
from alone import ACCOUNT, REGION, Built, build, private_network

from infra.foundation.online_store.component import OnlineStore, OnlineStoreArgs
from infra.foundation.online_store.config import OnlineStoreConfig

TYPE = "mlops:data:OnlineStore"


def online_store(config: OnlineStoreConfig) -> Built:
    def make(opts: pulumi.ResourceOptions) -> None:
        vpc = subnets = clients = None
        if config.kind == "redis":
            vpc, subnets, clients = private_network(opts)
        OnlineStore(
            "online-store",
            OnlineStoreArgs(
                config=config,
                name="t-feast",
                account_id=ACCOUNT,
                region=REGION,
                vpc_id=vpc,
                subnet_ids=subnets,
                client_security_group_id=clients,
                secret_name="t/feast/redis-auth",
            ),
            opts=opts,
        )

    def held(b: Any) -> dict[str, Any]:
        if config.kind == "redis":
            (group,) = b.client("elasticache").describe_replication_groups()["ReplicationGroups"]
            token = b.client("secretsmanager").get_secret_value(SecretId="t/feast/redis-auth")
            return {"group": group, "token": json.loads(token["SecretString"])}
        ddb = b.client("dynamodb")
        return {
            t: ddb.describe_table(TableName=t)["Table"] for t in ddb.list_tables()["TableNames"]
        }

    return build(make, inspect=held)


def test_redis_is_private_encrypted_and_its_token_is_a_secret() -> None:
    built = online_store(OnlineStoreConfig(redis={"num_cache_clusters": 2, "multi_az": True}))
    built.assert_parented(TYPE, "mlops:network:Network")
    group = built.aws["group"]
    assert group["TransitEncryptionEnabled"] is True and group["AtRestEncryptionEnabled"] is True
    assert group["AuthTokenEnabled"] is True and group["MultiAZ"] == "enabled"
    assert built.inputs("aws:elasticache/replicationGroup:ReplicationGroup")["authToken"] == (
        "[secret]"
    )
    assert built.aws["token"]["ssl"] is True and built.aws["token"]["port"] == 6379


def test_dynamodb_tables_are_recoverable_encrypted_and_protected() -> None:
    config = OnlineStoreConfig(
        kind="dynamodb", dynamodb={"tables": ["platform.fv1", "platform.fv2"]}
    )
    built = online_store(config)
    built.assert_parented(TYPE)
    assert sorted(built.aws) == ["platform.fv1", "platform.fv2"]
    for table in built.of_type("aws:dynamodb/table:Table"):
        inputs = table["inputs"]
        assert inputs["billingMode"] == "PAY_PER_REQUEST"
        assert inputs["pointInTimeRecovery"]["enabled"] is True
        assert inputs["serverSideEncryption"]["enabled"] is True
        assert inputs["deletionProtectionEnabled"] is True
    assert not built.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
