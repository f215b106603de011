"""The artifact store every other service keeps its artifacts in."""

from __future__ import annotations

import pulumi

from infra.platform import Platform
from infra.services.artifact_store.component import ArtifactStore, ArtifactStoreArgs


def deploy(p: Platform) -> None:
    store = ArtifactStore(
        "artifacts",
        ArtifactStoreArgs(
            config=p.config.artifact_store,
            bucket_name=f"{p.config.name_prefix}-{p.env}-artifacts-{p.account_id}",
            account_id=p.account_id,
            region=p.region,
            partition=p.partition,
            tags=p.tags,
        ),
        opts=p.aws,
    )
    p.add("artifacts", store)
    pulumi.export("artifact_bucket", store.bucket_name)
    pulumi.export("artifact_bucket_arn", store.bucket_arn)
    pulumi.export("artifact_kms_key_arn", store.kms_key_arn)
