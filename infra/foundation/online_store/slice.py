"""Feast's online store, provisioned by the Feast service: ElastiCache Redis in the
private subnets (admitting only the cluster) or DynamoDB tables."""

from __future__ import annotations

import pulumi

from infra.foundation.identity.component import dynamodb_tables_policy, secrets_read_policy
from infra.foundation.online_store.component import OnlineStore, OnlineStoreArgs
from infra.platform import Platform


def secret_arn(p: Platform) -> str:
    """The ARN of the Redis AUTH token's secret as AWS forms it (six random characters
    end every secret ARN), for the calls that read it."""
    return (
        f"arn:{p.partition}:secretsmanager:{p.region}:{p.account_id}:"
        f"secret:{p.base}/feast/redis-auth-AbCdEf"
    )


def key_alias(p: Platform) -> str:
    return f"alias/{p.base}-feast"


def provision(p: Platform) -> OnlineStore:
    """The online store from the ``online_store`` section; also sets what a Feast client
    needs on it (``p.online_store_access``)."""
    cfg = p.config.online_store
    name = f"{p.base}-feast"
    secret = f"{p.base}/feast/redis-auth"  # secret_arn() names it
    vpc_id, subnet_ids = p.subnets
    store = OnlineStore(
        "online-store",
        OnlineStoreArgs(
            config=cfg,
            name=name,
            account_id=p.account_id,
            region=p.region,
            partition=p.partition,
            vpc_id=vpc_id,
            subnet_ids=subnet_ids,
            client_security_group_id=p.the_cluster.node_security_group_id,
            secret_name=secret,
            tags=p.tags,
        ),
        opts=p.aws,
    )
    p.online_store = store
    p.online_store_access = (
        secrets_read_policy(secret_names=[secret], key_aliases=[f"alias/{name}"], scope=p.scope)
        if cfg.kind == "redis"
        else dynamodb_tables_policy(
            table_names=cfg.dynamodb.tables, key_aliases=[f"alias/{name}"], scope=p.scope
        )
    )
    pulumi.export(
        "online_store",
        {
            "kind": cfg.kind,
            "endpoint": store.endpoint,
            "secret_arn": store.secret_arn,
            "tables": list(cfg.dynamodb.tables) if cfg.kind == "dynamodb" else [],
        },
    )
    return store
