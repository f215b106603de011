"""Feast: its registry bucket, its online store, its IRSA role, and the feature server
with scheduled materialization and ``feast apply``."""

from __future__ import annotations

import pulumi

from infra.base import aws_calls
from infra.foundation.identity.component import merge_policies
from infra.foundation.online_store import slice as online_stores
from infra.platform import Platform
from infra.services.artifact_store import layout
from infra.services.artifact_store.component import ArtifactStore, ArtifactStoreArgs
from infra.services.feast.component import (
    REGISTRY_KEY,
    DynamoDbStore,
    FeastStore,
    FeastStoreArgs,
    RedisStore,
    feast_client_calls,
)
from mlops_runtime import pipelines_env

SERVICE_ACCOUNT = "feast"
# the ECR repository of the image that holds the feature repository
REPO_IMAGE_REPOSITORY = "pipeline-components"
# what the platform's pipelines publish and Feast materializes (MLOPS_DATA_PREFIX/features)
FEATURES = f"{layout.PIPELINES}/features"


def registry_store(p: Platform) -> ArtifactStore:
    """Feast's registry in a bucket of its own: its S3 registry calls HeadBucket on every
    read, and HeadBucket needs ListBucket on the whole bucket, which must not open the
    artifact store's key names to every Feast client."""
    return ArtifactStore(
        "feast-registry",
        ArtifactStoreArgs(
            config=p.config.artifact_store,
            bucket_name=f"{p.config.name_prefix}-{p.env}-feast-registry-{p.account_id}",
            account_id=p.account_id,
            region=p.region,
            partition=p.partition,
            tags=p.tags,
        ),
        opts=p.aws,
    )


def client_calls(p: Platform, registry: ArtifactStore) -> list[aws_calls.AwsCall]:
    """What every Feast client of this platform calls first (server and pipeline steps)."""
    redis = p.online_store is not None and p.config.online_store.kind == "redis"
    token = (online_stores.secret_arn(p), online_stores.key_alias(p), p.region) if redis else None
    return feast_client_calls(registry.calls, token)


def deploy(p: Platform) -> None:
    comp = p.config.components
    cfg = comp.feast
    if not cfg.enabled:
        return
    artifacts = p.require("artifacts", ArtifactStore)
    registry = registry_store(p)
    p.add("feast-registry", registry)
    online_store = online_stores.provision(p)
    assert p.online_store_access is not None
    identity = p.irsa(
        "feast",
        cfg.namespace,
        SERVICE_ACCOUNT,
        {
            "access": merge_policies(
                registry.policy_document(layout.FEAST, "read-write", head_bucket=True),
                # the parquet sources the platform's pipelines publish (materialization)
                artifacts.policy_document(layout.PIPELINES),
                p.online_store_access,
            )
        },
    )
    p.service_roles["feast"] = identity.role_arn
    store: RedisStore | DynamoDbStore
    if p.config.online_store.kind == "redis":
        endpoint = pulumi.Output.from_input(online_store.endpoint)
        store = RedisStore(
            host=endpoint.apply(lambda e: str(e).rsplit(":", 1)[0]),
            port=endpoint.apply(lambda e: int(str(e).rsplit(":", 1)[1])),
            auth_secret_arn=online_store.secret_arn,
        )
    else:
        store = DynamoDbStore(table_names=p.config.online_store.dynamodb.tables)
    registry_bucket = p.registry
    assert registry_bucket is not None
    feast = FeastStore(
        "feast",
        FeastStoreArgs(
            config=cfg,
            repo_image=(
                registry_bucket.repository_urls.apply(
                    lambda urls: f"{urls[REPO_IMAGE_REPOSITORY]}:{cfg.repo_image_tag}"
                )
                if cfg.repo_image_tag
                else None
            ),
            # where the definitions' source is: the features pipeline's output
            repo_env={
                pipelines_env.BUCKET_ENV: artifacts.name,
                pipelines_env.DATA_PREFIX_ENV: layout.PIPELINES,
            },
            registry_bucket=registry.name,
            region=p.region,
            role_arn=identity.role_arn,
            online_store=store,
            service_account=SERVICE_ACCOUNT,
            aws_calls=[
                *client_calls(p, registry),
                *registry.calls.write(REGISTRY_KEY, "feast apply writes the registry"),
                artifacts.calls.list_under(FEATURES, "materialization lists the sources"),
                *artifacts.calls.read(f"{FEATURES}/part.parquet", "materialization reads"),
            ],
            # the teams' pods and the pipeline runs (in the KFP namespace) read features
            client_namespaces=[
                *(t.namespace for t in p.config.teams),
                *([comp.kfp.namespace] if comp.kfp.enabled else []),
            ],
            monitoring_namespace=comp.monitoring.namespace if comp.monitoring.enabled else None,
        ),
        opts=p.k8s,
    )
    p.add("feast", feast)
    pulumi.export("feast_server_url", feast.server_url)
    pulumi.export("feast_registry", feast.registry_path)
