"""FeastStore built alone: its config points at the real stores; nothing holds a credential."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
import yaml
from alone import build

from infra.services.feast.component import DynamoDbStore, FeastStore, FeastStoreArgs, RedisStore
from infra.services.feast.config import FeastConfig

TYPE = "mlops:kubernetes:FeastStore"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:t/feast/redis-auth-AbCdEf"


def feast(
    config: FeastConfig,
    store: RedisStore | DynamoDbStore,
    repo_image: str = "123.dkr.ecr.us-east-1.amazonaws.com/t/pipeline-components:1.2.3",
) -> Any:
    def make(opts: pulumi.ResourceOptions) -> None:
        FeastStore(
            "feast",
            FeastStoreArgs(
                config=config,
                repo_image=repo_image,
                registry_bucket="b",
                region="us-east-1",
                role_arn="arn:aws:iam::1:role/feast",
                online_store=store,
            ),
            opts=opts,
        )

    return build(make, kubernetes=True)


def feature_store_yaml(built: Any) -> dict[str, Any]:
    data = built.inputs("kubernetes:core/v1:ConfigMap", "feast-config")["data"]
    return dict(yaml.safe_load(data["feature_store.yaml"]))


def test_redis_over_tls_with_the_token_read_at_start_never_stored() -> None:
    store = RedisStore(host="redis.internal", port=6379, auth_secret_arn=SECRET_ARN)
    built = feast(FeastConfig(project="platform"), store)
    built.assert_parented(TYPE)
    config = feature_store_yaml(built)
    assert config["project"] == "platform"
    assert config["registry"]["path"] == "s3://b/feast/registry.db"
    online = config["online_store"]["connection_string"]
    assert (
        "redis.internal:6379" in online and "ssl=true" in online and "${REDIS_PASSWORD}" in online
    )
    assert not built.of_type("kubernetes:core/v1:Secret")  # the token never enters etcd
    server = built.inputs("kubernetes:apps/v1:Deployment")["spec"]["template"]["spec"]
    (container,) = server["containers"]
    assert container["command"][:2] == ["sh", "-c"]  # fetches the token, then serves
    assert any(e["name"] == "REDIS_AUTH_SECRET_ARN" for e in container["env"])


def test_schedule_namespace_and_apply_job_follow_the_section() -> None:
    config = FeastConfig(namespace="features", materialize_schedule="0 */6 * * *", replicas=2)
    built = feast(config, DynamoDbStore(table_names=["platform.fv"]))
    cron = built.inputs("kubernetes:batch/v1:CronJob")
    assert cron["spec"]["schedule"] == "0 */6 * * *"
    assert cron["metadata"]["namespace"] == "features"
    assert built.inputs("kubernetes:apps/v1:Deployment")["spec"]["replicas"] == 2
    assert feature_store_yaml(built)["online_store"]["type"] == "dynamodb"
    first = built.inputs("kubernetes:batch/v1:Job")["metadata"]["name"]
    other = feast(
        config,
        DynamoDbStore(table_names=["platform.fv"]),
        repo_image="123.dkr.ecr.us-east-1.amazonaws.com/t/pipeline-components:1.2.4",
    )
    assert other.inputs("kubernetes:batch/v1:Job")["metadata"]["name"] != first


def test_tables_feast_would_never_use_are_refused() -> None:
    with pytest.raises(ValueError, match=r"not 'platform\.<feature view>'"):
        FeastStoreArgs(
            config=FeastConfig(),
            repo_image="r/x:1",
            registry_bucket="b",
            region="us-east-1",
            role_arn="r",
            online_store=DynamoDbStore(table_names=["other.fv"]),
        )


def test_a_moving_repo_image_is_refused() -> None:
    with pytest.raises(ValueError, match="must be pinned"):
        FeastStoreArgs(
            config=FeastConfig(),
            repo_image="registry/x:latest",
            registry_bucket="b",
            region="us-east-1",
            role_arn="r",
            online_store=DynamoDbStore(table_names=["platform.fv"]),
        )
