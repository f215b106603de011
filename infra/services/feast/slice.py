"""Feast: its online store, its IRSA role, and the feature server with scheduled
materialization and ``feast apply``."""

from __future__ import annotations

import pulumi

from infra.foundation.identity.component import merge_policies
from infra.foundation.online_store import slice as online_stores
from infra.platform import Platform
from infra.services.artifact_store import layout
from infra.services.artifact_store.component import ArtifactStore
from infra.services.feast.component import DynamoDbStore, FeastStore, FeastStoreArgs, RedisStore

SERVICE_ACCOUNT = "feast"
# the ECR repository of the image that holds the feature repository
REPO_IMAGE_REPOSITORY = "pipeline-components"


def deploy(p: Platform) -> None:
    cfg = p.config.components.feast
    if not cfg.enabled:
        return
    artifacts = p.require("artifacts", ArtifactStore)
    online_store = online_stores.provision(p)
    assert p.online_store_access is not None
    identity = p.irsa(
        "feast",
        cfg.namespace,
        SERVICE_ACCOUNT,
        {
            "access": merge_policies(
                artifacts.policy_document(layout.FEAST, "read-write"),
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
    registry = p.registry
    assert registry is not None
    feast = FeastStore(
        "feast",
        FeastStoreArgs(
            config=cfg,
            repo_image=registry.repository_urls.apply(
                lambda urls: f"{urls[REPO_IMAGE_REPOSITORY]}:{cfg.repo_image_tag}"
            ),
            artifact_bucket=artifacts.name,
            region=p.region,
            role_arn=identity.role_arn,
            online_store=store,
            service_account=SERVICE_ACCOUNT,
        ),
        opts=p.k8s,
    )
    p.add("feast", feast)
    pulumi.export("feast_server_url", feast.server_url)
