"""Kubeflow Pipelines: its database, the IRSA roles of its API server, UI and runners
(one per team), and the environment every pipeline run reads."""

from __future__ import annotations

import pulumi

from infra.foundation.databases import slice as databases
from infra.foundation.identity.component import merge_policies
from infra.foundation.online_store import slice as online_stores
from infra.platform import Platform
from infra.services.artifact_store import layout
from infra.services.artifact_store.component import ArtifactStore
from infra.services.feast.component import FeastStore, feast_client_calls
from infra.services.kfp.component import (
    LOG_KEY_FORMAT,
    KubeflowPipelines,
    KubeflowPipelinesArgs,
)
from infra.services.mlflow.component import MlflowServer
from infra.services.mlflow.slice import PIPELINES_USER
from infra.services.monitoring.component import Monitoring
from mlops_runtime import pipelines_env as env
from mlops_runtime import teams

DATABASE = "mlpipeline"  # the upstream manifests' database name


def deploy(p: Platform) -> None:
    comp = p.config.components
    cfg = comp.kfp
    if not cfg.enabled:
        return
    ns, prefix = cfg.namespace, layout.PIPELINES
    artifacts = p.require("artifacts", ArtifactStore)
    mlflow = p.service("mlflow", MlflowServer)
    feast = p.service("feast", FeastStore)
    monitoring = p.service("monitoring", Monitoring)
    database = databases.provision(p, "kfp", db_name=DATABASE)
    # the API server checks its bucket with HeadBucket when it starts: ListBucket on the
    # whole artifact bucket (its key names; objects stay limited to the pipeline root)
    api = p.irsa(
        "kfp",
        ns,
        "ml-pipeline",
        {
            "access": merge_policies(
                artifacts.policy_document(prefix, "read-write", head_bucket=True),
                databases.credentials_policy(p, "kfp"),
            )
        },
    )
    p.service_roles["kfp"] = api.role_arn
    ui = p.irsa("kfp-ui", ns, "ml-pipeline-ui", {"access": artifacts.policy_document(prefix)})
    # What a run of the sample pipelines touches: the pipeline root, which is also their
    # data prefix (MLOPS_DATA_PREFIX), and the feature store (registry, online store).
    runner_policies = {"pipeline-root": artifacts.policy_document(prefix, "read-write")}
    registry = p.service("feast-registry", ArtifactStore)
    if feast is not None and registry is not None and p.online_store_access is not None:
        runner_policies["feature-store"] = merge_policies(
            registry.policy_document(layout.FEAST, "read-write", head_bucket=True),
            p.online_store_access,
        )
    runner = p.irsa("kfp-runner", ns, "pipeline-runner", runner_policies)
    # each team's runs execute as pipeline-runner-<team>: the runner's access plus its prefix
    team_runners = {
        t.name: p.irsa(
            f"kfp-runner-{t.name}",
            ns,
            teams.kfp_runner(t.name),
            {"team-prefix": artifacts.policy_document(t.prefix, "read-write"), **runner_policies},
            team=t.name,
        )
        for t in p.config.teams
    }
    pipelines_env: dict[str, pulumi.Input[str]] = {
        env.TRACKING_URI_ENV: mlflow.tracking_uri if mlflow else "",
        env.BUCKET_ENV: artifacts.name,
        env.DATA_PREFIX_ENV: prefix,
        env.ARTIFACTS_DESTINATION_ENV: mlflow.artifacts_destination if mlflow else "",
        env.FEAST_PROJECT_ENV: comp.feast.project if feast else "",
        env.FEAST_REGISTRY_ENV: feast.registry_path if feast else "",
        env.FEAST_ONLINE_STORE_ENV: "",
        env.REDIS_AUTH_SECRET_ENV: "",
        env.PUSHGATEWAY_ENV: monitoring.pushgateway_url if monitoring else "",
        env.REGION_ENV: p.region,
    }
    online_store = p.online_store
    if feast is not None and online_store is not None:
        if online_store.endpoint is not None and online_store.secret_arn is not None:  # Redis
            pipelines_env[env.FEAST_ONLINE_STORE_ENV] = online_store.endpoint.apply(
                lambda e: f"rediss://{e}/0"
            )
            pipelines_env[env.REDIS_AUTH_SECRET_ENV] = online_store.secret_arn
        else:
            pipelines_env[env.FEAST_ONLINE_STORE_ENV] = f"dynamodb://{p.region}"
    pipelines_credentials: dict[str, pulumi.Input[str]] = (
        {
            env.USERNAME_ENV: PIPELINES_USER,
            env.PASSWORD_ENV: mlflow.user_passwords[PIPELINES_USER],
        }
        if mlflow is not None and PIPELINES_USER in mlflow.user_passwords
        else {}
    )
    # each team's runs: its data prefix and MLflow workspace, its pipeline user
    team_env: dict[str, dict[str, pulumi.Input[str]]] = {
        t.name: {**pipelines_env, env.DATA_PREFIX_ENV: t.prefix, env.WORKSPACE_ENV: t.name}
        for t in p.config.teams
    }
    team_credentials: dict[str, dict[str, pulumi.Input[str]]] = {
        t.name: {
            env.USERNAME_ENV: teams.pipelines_user(t.name),
            env.PASSWORD_ENV: mlflow.user_passwords[teams.pipelines_user(t.name)],
        }
        for t in p.config.teams
        if mlflow is not None and teams.pipelines_user(t.name) in mlflow.user_passwords
    }
    # what each account's pods call first: the API server checks the bucket and keeps
    # pipeline packages; the UI shows artifacts; a run's launcher and Argo's executor move
    # artifacts under the pipeline root, and its steps use the feature store
    root = artifacts.calls
    redis_token = (
        (online_stores.secret_arn(p), online_stores.key_alias(p), p.region)
        if p.online_store is not None and p.config.online_store.kind == "redis"
        else None
    )
    run_output = f"{prefix}/training/run-0123/train-model/model"
    step_log = f"{prefix}/{LOG_KEY_FORMAT}/main.log".replace(
        "{{workflow.name}}", "training-x7k2p"
    ).replace("{{pod.name}}", "training-x7k2p-train-1234")
    runner_calls = [
        root.list_under(f"{prefix}/training", "list a run's artifacts"),
        *root.write(run_output, "upload a step's output"),
        *root.read(run_output, "download a step's input"),
        *root.write(step_log, "Argo's executor archives the step's log"),
        *(
            feast_client_calls(registry.calls, redis_token)
            if feast is not None and registry is not None
            else []
        ),
    ]
    calls = {
        "ml-pipeline": [
            root.head("the API server checks its bucket when it starts"),
            *root.write(f"{prefix}/pipeline-0123", "store a pipeline package"),
            *root.read(f"{prefix}/pipeline-0123", "read a pipeline package"),
        ],
        "ml-pipeline-ui": root.read(run_output, "show an artifact"),
        "pipeline-runner": runner_calls,
        **{
            teams.kfp_runner(t.name): [
                *runner_calls,
                *root.write(f"{t.prefix}/data/part.parquet", "write the team's data"),
                *root.read(f"{t.prefix}/data/part.parquet", "read the team's data"),
                *root.write(
                    f"{teams.model_prefix(t.name, 'm', '1')}/MLmodel",
                    "publish a model for the team's model servers",
                ),
            ]
            for t in p.config.teams
        },
    }
    domain = comp.ingress.domain
    kfp = KubeflowPipelines(
        "kfp",
        KubeflowPipelinesArgs(
            config=cfg,
            artifact_bucket=artifacts.name,
            artifact_prefix=prefix,
            region=p.region,
            api_role_arn=api.role_arn,
            ui_role_arn=ui.role_arn,
            runner_role_arn=runner.role_arn,
            team_runner_role_arns={k: v.role_arn for k, v in team_runners.items()},
            db_host=database.address,
            db_port=database.port,
            db_username=database.username,
            db_password=database.instance.password.apply(lambda pw: pw or ""),
            auth=comp.auth.mode,
            oidc=p.oidc,
            domain=f"pipelines.{domain}" if domain and comp.auth.mode == "oidc" else None,
            ingress_class=comp.ingress.class_name,
            cluster_issuer=comp.cluster_issuer,
            pipelines_env=pipelines_env,
            pipelines_credentials=pipelines_credentials,
            team_pipelines_env=team_env,
            team_pipelines_credentials=team_credentials,
            aws_calls=calls,
            cert_manager=p.cert_manager.release if p.cert_manager else None,
            client_namespaces=[t.namespace for t in p.config.teams],
            monitoring_namespace=comp.monitoring.namespace if comp.monitoring.enabled else None,
            # the load balancer reaches pods from the VPC (ALB target type ip)
            ingress_source_cidrs=[p.config.network.cidr],
        ),
        opts=p.k8s,
    )
    p.add("kfp", kfp)
    pulumi.export("kfp_api_url", kfp.api_url)
    pulumi.export("kfp_pipeline_root", kfp.pipeline_root)
