"""MLflow: its database, its IRSA role on its artifact prefix, and the tracking server."""

from __future__ import annotations

import pulumi

from infra.foundation.databases import slice as databases
from infra.foundation.identity.component import merge_policies
from infra.platform import Platform
from infra.services.artifact_store import layout
from infra.services.artifact_store.component import ArtifactStore
from infra.services.mlflow.component import MlflowServer, MlflowServerArgs
from mlops_runtime import mlflow_teams, teams

SERVICE_ACCOUNT = "mlflow"
# the basic-auth user Kubeflow runs log as, never as admin
PIPELINES_USER = teams.SHARED_PIPELINES_USER
# where the proxy puts a logged model: <destination>/<experiment>/<run>/artifacts/...
ARTIFACT = f"{layout.MLFLOW}/1/0123456789abcdef/artifacts/model/model.pkl"


def deploy(p: Platform) -> None:
    comp = p.config.components
    cfg = comp.mlflow
    if not cfg.enabled:
        return
    artifacts = p.require("artifacts", ArtifactStore)
    database = databases.provision(p, "mlflow", db_name=cfg.database_name)
    # a team's workspace keeps its runs' artifacts under the team's prefix, written there by
    # the team's own identities; the server reads them back for its UI and API
    team_artifacts = [
        artifacts.policy_document(teams.mlflow_prefix(t.name)) for t in p.config.teams
    ]
    identity = p.irsa(
        "mlflow",
        cfg.namespace,
        SERVICE_ACCOUNT,
        {
            "access": merge_policies(
                artifacts.policy_document(layout.MLFLOW, "read-write"),
                databases.credentials_policy(p, "mlflow"),
                *team_artifacts,
            )
        },
    )
    p.service_roles["mlflow"] = identity.role_arn
    domain = comp.ingress.domain
    server = MlflowServer(
        "mlflow",
        MlflowServerArgs(
            config=cfg,
            artifact_bucket=artifacts.name,
            artifact_prefix=layout.MLFLOW,
            kms_key_arn=artifacts.kms_key_arn,
            role_arn=identity.role_arn,
            db_host=database.address,
            db_port=database.port,
            db_username=database.username,
            db_password=database.instance.password.apply(lambda pw: pw or ""),
            service_account=SERVICE_ACCOUNT,
            auth=comp.auth.mode,
            oidc=p.oidc,
            domain=f"mlflow.{domain}" if domain else None,
            ingress_class=comp.ingress.class_name,
            cluster_issuer=comp.cluster_issuer,
            client_namespaces=[
                *(t.namespace for t in p.config.teams),
                *([comp.kfp.namespace] if comp.kfp.enabled else []),
            ],
            metrics_namespaces=[comp.monitoring.namespace] if comp.monitoring.enabled else [],
            # the load balancer reaches pods from the VPC (ALB target type ip)
            ingress_source_cidrs=[p.config.network.cidr],
            workspaces=[
                # the shared runner's user, in the workspace of what predates teams
                *(
                    [
                        mlflow_teams.Workspace(
                            mlflow_teams.DEFAULT_WORKSPACE, None, (PIPELINES_USER,)
                        )
                    ]
                    if comp.kfp.enabled
                    else []
                ),
                *(
                    mlflow_teams.Workspace(
                        t.name, artifacts.uri(teams.mlflow_prefix(t.name)), tuple(t.mlflow_accounts)
                    )
                    for t in p.config.teams
                ),
            ],
            purge=p.config.purged_teams,
            # the artifact proxy (--serve-artifacts) with boto3 under the IRSA role
            aws_calls=[
                artifacts.calls.list_under(layout.MLFLOW, "list a run's artifacts"),
                *artifacts.calls.write(f"{ARTIFACT}", "upload an artifact"),
                *artifacts.calls.read(f"{ARTIFACT}", "download an artifact"),
                *(
                    call
                    for t in p.config.teams
                    for call in artifacts.calls.read(
                        f"{teams.mlflow_prefix(t.name)}/1/0123/artifacts/model/MLmodel",
                        "show a team's artifact",
                    )
                ),
            ],
        ),
        opts=pulumi.ResourceOptions(
            provider=p.the_cluster.provider,
            depends_on=[p.cert_manager] if p.cert_manager and domain else [],
        ),
    )
    p.add("mlflow", server)
    pulumi.export("mlflow_tracking_uri", server.tracking_uri)
    pulumi.export("mlflow_admin_password", server.admin_password)  # a secret
    # what the platform team hands each team's people: their MLflow passwords (secrets)
    pulumi.export(
        "mlflow_team_passwords",
        {
            t.name: {u: server.user_passwords[u] for u in t.mlflow_users}
            for t in p.config.teams
            if all(u in server.user_passwords for u in t.mlflow_users)
        },
    )
