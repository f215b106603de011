"""FeastStore built alone: its config points at the real stores; nothing holds a credential."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from alone import build

from infra.services.feast.component import (
    REPO_DIR,
    DynamoDbStore,
    FeastStore,
    FeastStoreArgs,
    RedisStore,
)
from infra.services.feast.config import FeastConfig

TYPE = "mlops:kubernetes:FeastStore"
REPO = "123.dkr.ecr.us-east-1.amazonaws.com/t/pipeline-components"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
ROOT = Path(__file__).resolve().parents[4]
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:t/feast/redis-auth-AbCdEf"


def feast(
    config: FeastConfig,
    store: RedisStore | DynamoDbStore,
    repo_image: str | None = f"{REPO}:{COMMIT}",
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
        repo_image=f"{REPO}:{COMMIT[::-1]}",
    )
    assert other.inputs("kubernetes:batch/v1:Job")["metadata"]["name"] != first


def test_tables_feast_would_never_use_are_refused() -> None:
    with pytest.raises(ValueError, match=r"not 'platform\.<feature view>'"):
        FeastStoreArgs(
            config=FeastConfig(),
            repo_image=None,
            registry_bucket="b",
            region="us-east-1",
            role_arn="r",
            online_store=DynamoDbStore(table_names=["other.fv"]),
        )


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("registry/x:latest", "uses the 'latest' tag"),
        # the image workflow pushes commit SHAs: a version tag was never pushed
        (f"{REPO}:0.1.0", "not a tag the image workflow pushes"),
    ],
)
def test_an_image_that_is_not_pinned_or_never_pushed_is_refused(image: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        FeastStoreArgs(
            config=FeastConfig(),
            repo_image=image,
            registry_bucket="b",
            region="us-east-1",
            role_arn="r",
            online_store=DynamoDbStore(table_names=["platform.fv"]),
        )


def test_without_a_repo_image_there_is_no_apply_job() -> None:
    built = feast(FeastConfig(), DynamoDbStore(table_names=["platform.fv"]), repo_image=None)
    assert not built.of_type("kubernetes:batch/v1:Job")
    assert built.of_type("kubernetes:apps/v1:Deployment")  # the server starts regardless


def test_the_feature_repository_is_where_the_image_has_it() -> None:
    """pipelines/Dockerfile copies pipelines/ somewhere; `feast -c` must point there."""
    copies = [
        line.split()[1:]
        for line in (ROOT / "pipelines" / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and "--from" not in line
    ]
    inside = [
        (ROOT / src.rstrip("/") / Path(REPO_DIR).relative_to(dest.rstrip("/")))
        for src, dest in copies
        if Path(REPO_DIR).is_relative_to(dest.rstrip("/"))
    ]
    assert inside, f"no COPY in pipelines/Dockerfile puts anything at {REPO_DIR}"
    assert (inside[0] / "features.py").is_file()
