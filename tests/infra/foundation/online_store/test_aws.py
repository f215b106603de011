"""Online store: Redis with TLS, an AUTH token kept secret and encryption at rest — or
DynamoDB on demand with PITR and SSE-KMS, chosen in config."""

from __future__ import annotations

import json

import pytest
from plans import Planned, planned

from mlops.engine.fakes import Ctx, random_password

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


def test_redis_is_encrypted_in_transit_and_at_rest_with_auth(env: Planned) -> None:
    (group,) = env.aws["replication_groups"]
    assert group["TransitEncryptionEnabled"] is True
    assert group["AtRestEncryptionEnabled"] is True
    assert group["AuthTokenEnabled"] is True
    inputs = env.one(GROUP, "online-store")["inputs"]
    key = env.one("aws:kms/key:Key", "online-store-key")
    assert inputs["kmsKeyId"] == env.state(key)["arn"]
    assert inputs["authToken"] == "[secret]"


def test_redis_sizing_and_failover_from_config(env: Planned) -> None:
    cfg = env.config.online_store.redis
    (group,) = env.aws["replication_groups"]
    assert len(group["MemberClusters"]) == cfg.num_cache_clusters
    assert group["CacheNodeType"] == cfg.node_type
    assert group["MultiAZ"] == ("enabled" if cfg.multi_az else "disabled")
    assert group["AutomaticFailover"] == ("enabled" if cfg.num_cache_clusters > 1 else "disabled")
    if env.env == "prod":
        assert cfg.multi_az and cfg.num_cache_clusters >= 2


def test_redis_admits_only_the_cluster_group_on_6379(env: Planned) -> None:
    (group,) = [
        g for g in env.aws["security_groups"] if g["GroupName"] == f"mlops-{env.env}-feast-redis"
    ]
    (perm,) = group["IpPermissions"]
    assert perm["FromPort"] == perm["ToPort"] == 6379 and perm["IpRanges"] == []
    (eks_sg,) = [
        g for g in env.aws["security_groups"] if g["GroupName"].startswith("eks-cluster-sg-")
    ]
    assert [p["GroupId"] for p in perm["UserIdGroupPairs"]] == [eks_sg["GroupId"]]


def test_auth_token_lives_in_secrets_manager_only(env: Planned) -> None:
    generator = env.one("random:index/randomPassword:RandomPassword", "online-store-auth-token")
    token = random_password(
        Ctx(stack=env.env, region=env.config.region), generator["name"], generator["inputs"]
    )
    stored = json.loads(env.aws["secrets"][f"mlops-{env.env}/feast/redis-auth"]["value"])
    assert stored["auth_token"] == token and stored["ssl"] is True
    assert token not in env.text and json.dumps(token)[1:-1] not in env.text


def test_dynamodb_on_demand_with_pitr_and_kms(byo: Planned) -> None:
    tables = byo.aws["tables"]
    assert set(tables) == set(byo.config.online_store.dynamodb.tables)
    key = byo.state(byo.one("aws:kms/key:Key", "online-store-key"))["arn"]
    for name, table in tables.items():
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["pitr"] == "ENABLED"
        assert table["SSEDescription"]["SSEType"] == "KMS"
        assert table["DeletionProtectionEnabled"] is True
        inputs = byo.one("aws:dynamodb/table:Table", f"online-store-{name}")["inputs"]
        assert inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": key}
    assert not byo.of_type(GROUP)


def test_feast_role_may_use_exactly_the_named_tables(byo: Planned) -> None:
    policy = byo.aws["roles"]["acme-ml-byo-feast"]["inline"]["access"]
    (tables,) = [st for st in policy["Statement"] if st["Sid"] == "NamedTables"]
    assert sorted(tables["Resource"]) == sorted(
        f"arn:aws:dynamodb:eu-west-1:123456789012:table/{t}"
        for t in byo.config.online_store.dynamodb.tables
    )


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_feast_role_reads_only_its_token(name: str) -> None:
    p = planned(name)
    policy = p.aws["roles"][f"mlops-{name}-feast"]["inline"]["access"]
    (read,) = [st for st in policy["Statement"] if st["Sid"] == "ReadNamedSecrets"]
    assert read["Resource"] == [
        f"arn:aws:secretsmanager:us-east-1:123456789012:secret:mlops-{name}/feast/redis-auth-??????"
    ]
