"""The container registry: the nodes pull, only CI pushes."""

from __future__ import annotations

import pulumi

from infra.foundation.registry.component import ContainerRegistry, ContainerRegistryArgs
from infra.platform import Platform


def deploy(p: Platform) -> None:
    node_role_arn = p.the_cluster.node_role_arn or p.config.cluster.node_role_arn
    registry = ContainerRegistry(
        "registry",
        ContainerRegistryArgs(
            config=p.config.registry,
            prefix=p.base,
            puller_arns=[node_role_arn] if node_role_arn else [],
            pusher_arn=p.ci_role_arn,
            principals=[r for r in (p.the_cluster.node_role, p.ci_role) if r is not None],
            account_id=p.account_id,
            region=p.region,
            partition=p.partition,
            tags=p.tags,
        ),
        opts=p.aws,
    )
    p.registry = registry
    pulumi.export("repository_urls", registry.repository_urls)
