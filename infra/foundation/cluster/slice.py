"""The cluster, and the one Kubernetes provider every in-cluster slice receives."""

from __future__ import annotations

import pulumi

from infra.foundation.cluster.component import Cluster, ClusterArgs
from infra.platform import Platform


def deploy(p: Platform) -> None:
    cc = p.config.cluster
    cluster = Cluster(
        "cluster",
        ClusterArgs(
            config=cc,
            name=p.base,
            account_id=p.account_id,
            region=p.region,
            partition=p.partition,
            subnet_ids=p.private_subnet_ids if cc.mode == "create" else None,
            admin_role_arns=list(p.cluster_admin_role_arns),
            tags=p.tags,
        ),
        opts=p.aws,
    )
    p.cluster = cluster
    pulumi.export("cluster_name", cluster.cluster_name)
    pulumi.export("oidc_provider_arn", cluster.oidc_provider_arn)
    pulumi.export("kubeconfig", cluster.kubeconfig)  # a secret
    pulumi.export("kubernetes_provider_urn", cluster.provider.urn)
