"""The stack program: read the validated config, wire the components, export.

Everything environment-specific comes from environments/Pulumi.<stack>.yaml.
"""

import sys
from pathlib import Path

# `pulumi up` runs this file with infra/ on sys.path; the project root must be
# importable too when the project is not pip-installed in .venv.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
import pulumi_aws as aws

from components.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.ci_identity import CiIdentity, CiIdentityArgs
from components.cluster import Cluster, ClusterArgs, NodeGroupArgs
from components.database import Database, DatabaseArgs
from components.network import Network, NetworkArgs
from components.online_store import OnlineStore, OnlineStoreArgs
from components.registry import ContainerRegistry, ContainerRegistryArgs
from components.teams import Teams, TeamsArgs, TeamSpec
from components.workload_identity import (
    KeyScope,
    WorkloadIdentity,
    WorkloadIdentityArgs,
    dynamodb_tables_policy,
    merge_policies,
    secrets_read_policy,
)
from infra.config import ConfigError, load_stack_config

cfg = load_stack_config()
env = pulumi.get_stack()
tags = {**cfg.tags, "environment": env, "managed-by": "pulumi"}

aws_provider = aws.Provider("aws", region=cfg.region)
on_aws = pulumi.ResourceOptions(provider=aws_provider)
identity = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=aws_provider))
partition = aws.get_partition(opts=pulumi.InvokeOptions(provider=aws_provider)).partition

store_cfg = cfg.artifact_store
artifacts = ArtifactStore(
    "artifacts",
    ArtifactStoreArgs(
        bucket_name=f"{cfg.name_prefix}-{env}-artifacts-{identity.account_id}",
        account_id=identity.account_id,
        region=cfg.region,
        partition=partition,
        tags=tags,
        noncurrent_version_expiration_days=store_cfg.noncurrent_version_expiration_days,
        abort_incomplete_multipart_days=store_cfg.abort_incomplete_multipart_days,
        transition_days=store_cfg.transition.days if store_cfg.transition else None,
        transition_storage_class=(
            store_cfg.transition.storage_class if store_cfg.transition else "INTELLIGENT_TIERING"
        ),
        access_logging=store_cfg.access_logging,
        access_log_retention_days=store_cfg.access_log_retention_days,
        force_destroy=store_cfg.force_destroy,
        protect=store_cfg.protect,
    ),
    opts=on_aws,
)


# ------------------------------------------------------------------ AWS foundation
base = f"{cfg.name_prefix}-{env}"  # every IAM role of the stack starts with it (CI's scope)
account_id = identity.account_id
scope = KeyScope(region=cfg.region, account_id=account_id, partition=partition)

ci: CiIdentity | None = None
ci_role_arn: str | None = None
if cfg.ci.github_repository:
    ci_args = CiIdentityArgs(
        role_name=f"{base}-github-actions",
        name_prefix=base,
        github_repository=cfg.ci.github_repository,
        environment=cfg.ci.environment,
        branch=cfg.ci.branch,
        create_oidc_provider=cfg.ci.create_oidc_provider,
        repository_arns=[
            f"arn:{partition}:ecr:{cfg.region}:{account_id}:repository/{base}/{r}"
            for r in cfg.registry.repositories
        ],
        account_id=account_id,
        partition=partition,
        tags=tags,
    )
    ci = CiIdentity("ci", ci_args, opts=on_aws)
    ci_role_arn = ci_args.role_arn

network: Network | None = None
cc = cfg.cluster
if cc.mode == "create":
    zones = aws.get_availability_zones(
        state="available", opts=pulumi.InvokeOptions(provider=aws_provider)
    ).names[: cfg.network.az_count]
    network = Network(
        "network",
        NetworkArgs(
            name=base,
            cidr=cfg.network.cidr,
            zones=zones,
            account_id=account_id,
            region=cfg.region,
            partition=partition,
            nat_gateways=cfg.network.nat_gateways,
            s3_gateway_endpoint=cfg.network.s3_gateway_endpoint,
            interface_endpoints=cfg.network.interface_endpoints,
            flow_logs=cfg.network.flow_logs,
            flow_logs_retention_days=cfg.network.flow_logs_retention_days,
            cluster_name=base,
            tags=tags,
        ),
        opts=on_aws,
    )
    vpc_id: pulumi.Input[str] = network.vpc_id
    private_subnet_ids: pulumi.Input[list[str]] = network.private_subnet_ids
else:
    # Look the brought-in pieces up: AWS fails the preview if they do not exist or
    # lie outside the VPC, and their zones must really be different for Multi-AZ.
    assert cc.vpc_id is not None and cc.node_security_group_id is not None
    looked_up = [
        aws.ec2.get_subnet(
            id=subnet, vpc_id=cc.vpc_id, opts=pulumi.InvokeOptions(provider=aws_provider)
        )
        for subnet in cc.private_subnet_ids
    ]
    if len({s.availability_zone for s in looked_up}) < 2:
        raise ConfigError(
            "platform.cluster.private_subnet_ids: all subnets are in "
            f"{looked_up[0].availability_zone}; databases need 2 zones"
        )
    aws.ec2.get_security_group(
        id=cc.node_security_group_id,
        vpc_id=cc.vpc_id,
        opts=pulumi.InvokeOptions(provider=aws_provider),
    )
    vpc_id, private_subnet_ids = cc.vpc_id, list(cc.private_subnet_ids)

groups = cc.node_groups
cluster = Cluster(
    "cluster",
    ClusterArgs(
        name=base,
        account_id=account_id,
        region=cfg.region,
        partition=partition,
        mode=cc.mode,
        version=cc.version,
        subnet_ids=private_subnet_ids if cc.mode == "create" else None,
        endpoint_public_access=cc.endpoint_public_access,
        public_access_cidrs=cc.public_access_cidrs,
        log_types=cc.log_types,
        log_retention_days=cc.log_retention_days,
        node_groups=[
            NodeGroupArgs(
                name=group_name,
                instance_types=group.instance_types,
                capacity_type=group.capacity_type,
                min_size=group.min_size,
                desired_size=group.desired_size,
                max_size=group.max_size,
                disk_size_gb=group.disk_size_gb,
                gpu=group_name == "gpu",
            )
            for group_name, group in (
                ("system", groups.system),
                ("workloads", groups.workloads),
                ("gpu", groups.gpu),
            )
            if group.enabled
        ],
        admin_role_arns=[ci_role_arn] if ci_role_arn else [],
        kubeconfig=cc.kubeconfig,
        oidc_provider_arn=cc.oidc_provider_arn,
        node_security_group_id=cc.node_security_group_id,
        tags=tags,
    ),
    opts=on_aws,
)
# The one Kubernetes provider: in-cluster components take it through opts.
k8s_provider = cluster.provider
in_cluster = pulumi.ResourceOptions(provider=k8s_provider)
node_role_arn = cluster.node_role_arn or cc.node_role_arn

registry = ContainerRegistry(
    "registry",
    ContainerRegistryArgs(
        prefix=base,
        repositories=cfg.registry.repositories,
        puller_arns=[node_role_arn] if node_role_arn else [],
        pusher_arn=ci_role_arn,
        account_id=account_id,
        region=cfg.region,
        partition=partition,
        untagged_expiry_days=cfg.registry.untagged_expiry_days,
        force_delete=cfg.registry.force_delete,
        tags=tags,
    ),
    opts=on_aws,
)


def irsa(
    name: str, namespace: str, service_account: str, policies: dict[str, str]
) -> WorkloadIdentity:
    return WorkloadIdentity(
        name,
        WorkloadIdentityArgs(
            role_name=f"{base}-{name}",
            namespace=namespace,
            service_account=service_account,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            inline_policies=policies,
            tags=tags,
        ),
        opts=on_aws,
    )


# Databases: MLflow's backend store, KFP's metadata store; each service reads its own
# credentials and its own artifact prefix, nothing else.
databases: dict[str, Database] = {}
service_identities: dict[str, WorkloadIdentity] = {}
SERVICES = {  # service -> (namespace, service account, artifact prefix, database name)
    "mlflow": ("mlflow", "mlflow", "mlflow", "mlflow"),
    "kfp": ("kubeflow", "ml-pipeline", "pipelines", "mlpipeline"),
}
for service, (namespace, sa, prefix, db_name) in SERVICES.items():
    if not getattr(cfg.components, service).enabled:
        continue
    db_cfg = getattr(cfg.databases, service)
    identifier = f"{base}-{service}"
    secret_name = f"{base}/{service}/db-master"
    databases[service] = Database(
        f"{service}-db",
        DatabaseArgs(
            identifier=identifier,
            db_name=db_name,
            username=f"{service}_admin",
            engine=db_cfg.engine,
            engine_version=db_cfg.engine_version,
            instance_class=db_cfg.instance_class,
            allocated_storage_gb=db_cfg.allocated_storage_gb,
            max_allocated_storage_gb=db_cfg.max_allocated_storage_gb,
            multi_az=db_cfg.multi_az,
            backup_retention_days=db_cfg.backup_retention_days,
            deletion_protection=db_cfg.deletion_protection,
            final_snapshot=db_cfg.final_snapshot,
            performance_insights=db_cfg.performance_insights,
            protect=db_cfg.protect,
            vpc_id=vpc_id,
            subnet_ids=private_subnet_ids,
            client_security_group_id=cluster.node_security_group_id,
            secret_name=secret_name,
            tags=tags,
        ),
        opts=on_aws,
    )
    service_identities[service] = irsa(
        service,
        namespace,
        sa,
        {
            "access": merge_policies(
                artifacts.policy_document(prefix, "read-write"),
                secrets_read_policy(
                    secret_names=[secret_name],
                    key_aliases=[f"alias/{identifier}-db"],
                    scope=scope,
                ),
            )
        },
    )

online_store: OnlineStore | None = None
store_access: str | None = None  # what a Feast client needs on the online store
if cfg.components.feast.enabled:
    feast_cfg = cfg.online_store
    store_name = f"{base}-feast"
    feast_secret = f"{base}/feast/redis-auth"
    online_store = OnlineStore(
        "online-store",
        OnlineStoreArgs(
            name=store_name,
            account_id=account_id,
            region=cfg.region,
            partition=partition,
            kind=feast_cfg.kind,
            vpc_id=vpc_id,
            subnet_ids=private_subnet_ids,
            client_security_group_id=cluster.node_security_group_id,
            secret_name=feast_secret,
            engine_version=feast_cfg.redis.engine_version,
            node_type=feast_cfg.redis.node_type,
            num_cache_clusters=feast_cfg.redis.num_cache_clusters,
            multi_az=feast_cfg.redis.multi_az,
            snapshot_retention_days=feast_cfg.redis.snapshot_retention_days,
            tables=feast_cfg.dynamodb.tables,
            deletion_protection=feast_cfg.dynamodb.deletion_protection,
            tags=tags,
        ),
        opts=on_aws,
    )
    store_access = (
        secrets_read_policy(
            secret_names=[feast_secret], key_aliases=[f"alias/{store_name}"], scope=scope
        )
        if feast_cfg.kind == "redis"
        else dynamodb_tables_policy(
            table_names=feast_cfg.dynamodb.tables,
            key_aliases=[f"alias/{store_name}"],
            scope=scope,
        )
    )
    service_identities["feast"] = irsa(
        "feast",
        "feast",
        "feast",
        {
            "access": merge_policies(
                artifacts.policy_document("feast", "read-write"),
                # the parquet sources the platform's pipelines publish (materialization)
                artifacts.policy_document(SERVICES["kfp"][2]),
                store_access,
            )
        },
    )

teams = Teams(
    "teams",
    TeamsArgs(
        role_prefix=base,
        teams=[
            TeamSpec(name=t.name, namespace=t.namespace, service_account=t.service_account)
            for t in cfg.teams
        ],
        prefix_policy=lambda prefix: artifacts.policy_document(prefix, "read-write"),
        bucket_uri=artifacts.uri,
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer,
        tags=tags,
    ),
    opts=on_aws,
)

# ------------------------------------------------------------------ exports
pulumi.export("region", cfg.region)
pulumi.export("artifact_bucket", artifacts.bucket_name)
pulumi.export("artifact_bucket_arn", artifacts.bucket_arn)
pulumi.export("artifact_kms_key_arn", artifacts.kms_key_arn)
pulumi.export("vpc_id", vpc_id)
pulumi.export("private_subnet_ids", private_subnet_ids)
pulumi.export("cluster_name", cluster.cluster_name)
pulumi.export("oidc_provider_arn", cluster.oidc_provider_arn)
pulumi.export("kubeconfig", cluster.kubeconfig)  # a secret
pulumi.export("kubernetes_provider_urn", k8s_provider.urn)
pulumi.export(
    "databases",
    {
        name: {"address": db.address, "port": db.port, "secret_arn": db.secret_arn}
        for name, db in databases.items()
    },
)
if online_store is not None:
    pulumi.export(
        "online_store",
        {
            "kind": cfg.online_store.kind,
            "endpoint": online_store.endpoint,
            "secret_arn": online_store.secret_arn,
            "tables": list(cfg.online_store.dynamodb.tables)
            if cfg.online_store.kind == "dynamodb"
            else [],
        },
    )
pulumi.export("service_roles", {k: v.role_arn for k, v in service_identities.items()})
pulumi.export("team_roles", teams.teams)
pulumi.export("repository_urls", registry.repository_urls)
pulumi.export("ci_role_arn", ci.role_arn if ci else None)

# ------------------------------------------------------------------ in-cluster platform
# cert-manager, KServe, MLflow, Feast, Kubeflow Pipelines, tenancy and monitoring, on
# the one Kubernetes provider above; each reads the AWS outputs it needs.
from components.cert_manager import CertManager, CertManagerArgs  # noqa: E402
from components.feast import DynamoDbStore, FeastStore, FeastStoreArgs, RedisStore  # noqa: E402
from components.k8s_common import ResourceSpec  # noqa: E402
from components.kfp import KubeflowPipelines, KubeflowPipelinesArgs  # noqa: E402
from components.kserve import InferenceServiceSpec, KServe, KServeArgs  # noqa: E402
from components.mlflow_server import MlflowServer, MlflowServerArgs, OidcProxyArgs  # noqa: E402
from components.monitoring import Monitoring, MonitoringArgs, ScrapeTarget  # noqa: E402
from components.tenancy import Peer, TeamTenancy, TeamTenancyArgs  # noqa: E402


def _resources(r: object) -> ResourceSpec:
    return ResourceSpec(
        cpu_request=r.cpu_request,  # type: ignore[attr-defined]
        memory_request=r.memory_request,  # type: ignore[attr-defined]
        cpu_limit=r.cpu_limit,  # type: ignore[attr-defined]
        memory_limit=r.memory_limit,  # type: ignore[attr-defined]
    )


comp = cfg.components
oidc_args: OidcProxyArgs | None = None
if comp.auth.mode == "oidc" and comp.auth.oidc is not None:
    oidc_args = OidcProxyArgs(
        issuer_url=comp.auth.oidc.issuer_url,
        client_id=comp.auth.oidc.client_id,
        client_secret=pulumi.Config("mlops-platform").require_secret("oidcClientSecret"),
        image=comp.auth.oidc.proxy_image,
        email_domains=comp.auth.oidc.allowed_email_domains,
    )
domain = comp.ingress.domain

cert_manager: CertManager | None = None
if comp.cert_manager.enabled:
    cert_manager = CertManager(
        "cert-manager",
        CertManagerArgs(
            chart_version=comp.cert_manager.chart_version,
            repository=comp.cert_manager.repository,
            issuer_name=comp.ingress.cluster_issuer,
            acme_email=comp.cert_manager.acme_email,
            acme_server=comp.cert_manager.acme_server,
            ingress_class=comp.ingress.class_name,
        ),
        opts=in_cluster,
    )

mlflow: MlflowServer | None = None
if comp.mlflow.enabled:
    mlflow_db = databases["mlflow"]
    scaling = comp.mlflow.autoscaling
    mlflow = MlflowServer(
        "mlflow",
        MlflowServerArgs(
            image=comp.mlflow.image,
            artifact_bucket=artifacts.name,
            artifact_prefix=SERVICES["mlflow"][2],
            kms_key_arn=artifacts.kms_key_arn,
            role_arn=service_identities["mlflow"].role_arn,
            db_host=mlflow_db.address,
            db_port=mlflow_db.port,
            db_name=SERVICES["mlflow"][3],
            db_username="mlflow_admin",
            db_password=mlflow_db.instance.password.apply(lambda p: p or ""),
            namespace=SERVICES["mlflow"][0],
            service_account=SERVICES["mlflow"][1],
            auth=comp.auth.mode,
            oidc=oidc_args,
            domain=f"mlflow.{domain}" if domain else None,
            ingress_class=comp.ingress.class_name,
            cluster_issuer=comp.ingress.cluster_issuer,
            replicas=comp.mlflow.replicas,
            workers=comp.mlflow.workers,
            job_execution=comp.mlflow.job_execution,
            resources=_resources(comp.mlflow.resources),
            client_namespaces=[
                *(t.namespace for t in cfg.teams),
                *([SERVICES["kfp"][0]] if comp.kfp.enabled else []),
                *([comp.monitoring.namespace] if comp.monitoring.enabled else []),
            ],
            # the load balancer reaches pods from the VPC (ALB target type ip)
            ingress_source_cidrs=[cfg.network.cidr],
            # Kubeflow runs log as this user, never as admin (basic-auth only)
            users=["pipelines"] if comp.kfp.enabled else [],
            autoscaling=(
                (scaling.min_replicas, scaling.max_replicas, scaling.target_cpu_percent)
                if scaling.enabled
                else None
            ),
        ),
        opts=pulumi.ResourceOptions(
            provider=k8s_provider, depends_on=[cert_manager] if cert_manager and domain else []
        ),
    )

feast: FeastStore | None = None
if comp.feast.enabled and online_store is not None:
    if cfg.online_store.kind == "redis":
        endpoint = pulumi.Output.from_input(online_store.endpoint)
        store: RedisStore | DynamoDbStore = RedisStore(
            host=endpoint.apply(lambda e: str(e).rsplit(":", 1)[0]),
            port=endpoint.apply(lambda e: int(str(e).rsplit(":", 1)[1])),
            auth_secret_arn=online_store.secret_arn,
        )
    else:
        store = DynamoDbStore(table_names=cfg.online_store.dynamodb.tables)
    feast = FeastStore(
        "feast",
        FeastStoreArgs(
            image=comp.feast.image,
            repo_image=registry.repository_urls.apply(
                lambda urls: f"{urls['pipeline-components']}:{comp.feast.repo_image_tag}"
            ),
            artifact_bucket=artifacts.name,
            region=cfg.region,
            role_arn=service_identities["feast"].role_arn,
            online_store=store,
            project=comp.feast.project,
            namespace="feast",
            service_account="feast",
            materialize_schedule=comp.feast.materialize_schedule,
            replicas=comp.feast.replicas,
            resources=_resources(comp.feast.resources),
        ),
        opts=in_cluster,
    )


monitoring: Monitoring | None = None
if comp.monitoring.enabled:
    mon = comp.monitoring
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            chart_version=mon.chart_version,
            repository=mon.repository,
            namespace=mon.namespace,
            retention=mon.retention,
            storage_gb=mon.storage_gb,
            targets=[
                *(
                    [
                        ScrapeTarget(
                            namespace="mlflow",
                            app="mlflow",
                            port="http",
                            # basic-auth guards /metrics too; no API creates a read-only
                            # user at deploy time, so Prometheus uses the admin account
                            username="admin" if mlflow.admin_password is not None else None,
                            password=mlflow.admin_password,
                        )
                    ]
                    if mlflow
                    else []
                ),
                *([ScrapeTarget(namespace="feast", app="feast", port="metrics")] if feast else []),
            ],
            pushgateway_image=mon.pushgateway_image,
            p99_latency_seconds=mon.p99_latency_seconds,
            error_rate_threshold=mon.error_rate_threshold,
            drift_threshold=mon.drift_threshold,
        ),
        opts=in_cluster,
    )


def _team_role(team: str) -> pulumi.Output[str]:
    return teams.teams.apply(lambda d: d[team]["role_arn"])


team_roles = {t.name: _team_role(t.name) for t in cfg.teams}
kfp: KubeflowPipelines | None = None
if comp.kfp.enabled:
    kfp_ns, kfp_sa, kfp_prefix, _ = SERVICES["kfp"]
    ui_identity = irsa(
        "kfp-ui", kfp_ns, "ml-pipeline-ui", {"access": artifacts.policy_document(kfp_prefix)}
    )
    # What a run of the sample pipelines touches: the pipeline root, which is also their
    # data prefix (MLOPS_DATA_PREFIX), and the feature store (registry, online store).
    runner_policies = {"pipeline-root": artifacts.policy_document(kfp_prefix, "read-write")}
    if feast is not None and store_access is not None:
        runner_policies["feature-store"] = merge_policies(
            artifacts.policy_document("feast", "read-write"), store_access
        )
    runner_identity = irsa("kfp-runner", kfp_ns, "pipeline-runner", runner_policies)
    # each team's runs execute as pipeline-runner-<team>: the runner's access plus its prefix
    team_runners = {
        t.name: irsa(
            f"kfp-runner-{t.name}",
            kfp_ns,
            f"pipeline-runner-{t.name}",
            {
                "team-prefix": artifacts.policy_document(f"teams/{t.name}", "read-write"),
                **runner_policies,
            },
        )
        for t in cfg.teams
    }
    pipelines_env: dict[str, pulumi.Input[str]] = {
        "MLFLOW_TRACKING_URI": mlflow.tracking_uri if mlflow else "",
        "MLOPS_ARTIFACT_BUCKET": artifacts.name,
        "MLOPS_DATA_PREFIX": kfp_prefix,
        "MLOPS_MLFLOW_ARTIFACTS_DESTINATION": mlflow.artifacts_destination if mlflow else "",
        "MLOPS_FEAST_PROJECT": comp.feast.project if feast else "",
        "MLOPS_FEAST_REGISTRY": feast.registry_path if feast else "",
        "MLOPS_FEAST_ONLINE_STORE": "",
        "MLOPS_FEAST_REDIS_AUTH_SECRET_ARN": "",
        "MLOPS_PUSHGATEWAY_URL": monitoring.pushgateway_url if monitoring else "",
        "AWS_DEFAULT_REGION": cfg.region,
    }
    if feast is not None and online_store is not None:
        if online_store.endpoint is not None and online_store.secret_arn is not None:  # Redis
            pipelines_env["MLOPS_FEAST_ONLINE_STORE"] = online_store.endpoint.apply(
                lambda e: f"rediss://{e}/0"
            )
            pipelines_env["MLOPS_FEAST_REDIS_AUTH_SECRET_ARN"] = online_store.secret_arn
        else:
            pipelines_env["MLOPS_FEAST_ONLINE_STORE"] = f"dynamodb://{cfg.region}"
    pipelines_credentials: dict[str, pulumi.Input[str]] = (
        {
            "MLFLOW_TRACKING_USERNAME": "pipelines",
            "MLFLOW_TRACKING_PASSWORD": mlflow.user_passwords["pipelines"],
        }
        if mlflow is not None and "pipelines" in mlflow.user_passwords
        else {}
    )
    kfp_db = databases["kfp"]
    kfp = KubeflowPipelines(
        "kfp",
        KubeflowPipelinesArgs(
            version=comp.kfp.version,
            artifact_bucket=artifacts.name,
            artifact_prefix=kfp_prefix,
            region=cfg.region,
            api_role_arn=service_identities["kfp"].role_arn,
            ui_role_arn=ui_identity.role_arn,
            runner_role_arn=runner_identity.role_arn,
            team_runner_role_arns={k: v.role_arn for k, v in team_runners.items()},
            db_host=kfp_db.address,
            db_port=kfp_db.port,
            db_username="kfp_admin",
            db_password=kfp_db.instance.password.apply(lambda p: p or ""),
            namespace=kfp_ns,
            auth=comp.auth.mode,
            oidc=oidc_args,
            domain=f"pipelines.{domain}" if domain and comp.auth.mode == "oidc" else None,
            ingress_class=comp.ingress.class_name,
            cluster_issuer=comp.ingress.cluster_issuer,
            pipelines_env=pipelines_env,
            pipelines_credentials=pipelines_credentials,
        ),
        opts=in_cluster,
    )

peers = [
    *([Peer(namespace="mlflow", ports=[5000])] if comp.mlflow.enabled else []),
    *([Peer(namespace="feast", ports=[6566])] if comp.feast.enabled else []),
    *([Peer(namespace="kubeflow", ports=[8888, 8887])] if comp.kfp.enabled else []),
]
tenants: dict[str, TeamTenancy] = {}
for t in cfg.teams:
    tenants[t.name] = TeamTenancy(
        f"tenant-{t.name}",
        TeamTenancyArgs(
            team=t.name,
            namespace=t.namespace,
            service_account=t.service_account,
            role_arn=team_roles[t.name],
            cpu=t.quota.cpu,
            memory=t.quota.memory,
            gpu=t.quota.gpu,
            peers=peers,
            monitoring_namespace=comp.monitoring.namespace if comp.monitoring.enabled else None,
            group=f"team-{t.name}",
        ),
        opts=in_cluster,
    )

kserve: KServe | None = None
if comp.kserve.enabled:
    teams_by_name = {t.name: t for t in cfg.teams}
    kserve = KServe(
        "kserve",
        KServeArgs(
            version=comp.kserve.version,
            repository=comp.kserve.repository,
            deployment_mode=comp.kserve.deployment_mode,
            ingress=comp.kserve.ingress,
            ingress_class=comp.kserve.ingress_class,
            runtimes=comp.kserve.runtimes,
            images={
                "sklearn": comp.kserve.sklearn_image,
                "xgboost": comp.kserve.xgboost_image,
                "mlserver": comp.kserve.mlserver_image,
            },
            inference_services=[
                InferenceServiceSpec(
                    name=m.name,
                    namespace=teams_by_name[m.team].namespace,
                    storage_uri=artifacts.uri(f"teams/{m.team}/{m.path}"),
                    model_name=m.model_name,
                    model_version=m.model_version,
                    min_replicas=m.min_replicas,
                    max_replicas=m.max_replicas,
                    service_account=teams_by_name[m.team].service_account,
                )
                for m in comp.kserve.models
            ],
            cert_manager=cert_manager.release if cert_manager else None,
            isvc_depends_on=[tenants[m.team] for m in comp.kserve.models],
        ),
        opts=in_cluster,
    )

if mlflow is not None:
    pulumi.export("mlflow_tracking_uri", mlflow.tracking_uri)
    pulumi.export("mlflow_admin_password", mlflow.admin_password)  # a secret
if feast is not None:
    pulumi.export("feast_server_url", feast.server_url)
if kfp is not None:
    pulumi.export("kfp_api_url", kfp.api_url)
    pulumi.export("kfp_pipeline_root", kfp.pipeline_root)
if monitoring is not None:
    pulumi.export("pushgateway_url", monitoring.pushgateway_url)
