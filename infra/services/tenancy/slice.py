"""Teams: per team an IRSA role on its prefix, and its namespace with quota, network
isolation, identity and RBAC."""

from __future__ import annotations

import pulumi

from infra.platform import Platform
from infra.services.artifact_store.component import ArtifactStore
from infra.services.tenancy.component import Peer, TeamTenancy, TeamTenancyArgs
from infra.services.tenancy.teams import Teams, TeamsArgs
from mlops_runtime import teams as teams_names

# the ports of the platform's services a team's pods may call
MLFLOW_PORTS = [5000]
FEAST_PORTS = [6566]
KFP_PORTS = [8888, 8887]


def deploy(p: Platform) -> None:
    comp = p.config.components
    artifacts = p.require("artifacts", ArtifactStore)
    cluster = p.the_cluster
    teams = Teams(
        "teams",
        TeamsArgs(
            role_prefix=p.base,
            teams=p.config.teams,
            prefix_policy=lambda prefix: artifacts.policy_document(prefix, "read-write"),
            read_policy=lambda prefix: artifacts.policy_document(prefix, "read"),
            bucket_uri=artifacts.uri,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            cluster_name=cluster.cluster_name,
            tags=p.tags,
        ),
        opts=p.aws,
    )
    pulumi.export("team_roles", teams.teams)
    services = (
        (comp.mlflow.enabled, comp.mlflow.namespace, MLFLOW_PORTS),
        (comp.feast.enabled, comp.feast.namespace, FEAST_PORTS),
        (comp.kfp.enabled, comp.kfp.namespace, KFP_PORTS),
    )
    peers = [Peer(namespace=ns, ports=ports) for enabled, ns, ports in services if enabled]
    tenants = {
        t.name: TeamTenancy(
            f"tenant-{t.name}",
            TeamTenancyArgs(
                config=t,
                # its own role only: another team's joining changes nothing of this one
                role_arn=teams.role_arns[t.name],
                serving_role_arn=teams.serving_role_arns[t.name],
                # the team's own workloads in its namespace work on the team's prefix
                aws_calls=[
                    artifacts.calls.list_under(f"{t.prefix}/data", "list the team's data"),
                    *artifacts.calls.read(f"{t.prefix}/data/part.parquet", "read the team's data"),
                    *artifacts.calls.write(
                        f"{t.prefix}/data/part.parquet", "write the team's data"
                    ),
                ],
                peers=peers,
                monitoring_namespace=comp.monitoring.namespace if comp.monitoring.enabled else None,
                group=t.group,
                # KServe's storage initializer downloads the team's models as the serving
                # account, from where the training pipeline publishes them
                serving_aws_calls=[
                    artifacts.calls.list_under(
                        teams_names.model_prefix(t.name, "m", "1"), "list a model's files"
                    ),
                    *artifacts.calls.read(
                        f"{teams_names.model_prefix(t.name, 'm', '1')}/MLmodel", "download a model"
                    ),
                ],
            ),
            opts=p.k8s,
        )
        for t in p.config.teams
    }
    p.add("tenants", tenants)
