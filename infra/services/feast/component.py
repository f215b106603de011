"""FeastStore: Feast's feature server, scheduled materialization and ``feast apply``,
configured from the real AWS outputs.

``feature_store.yaml`` is rendered by ``render_feature_store_yaml`` (a plain function
tests run for real) into a ConfigMap: registry ``s3://<bucket>/feast/registry.db``,
online store ElastiCache Redis over TLS (password substituted by Feast from the
``REDIS_PASSWORD`` environment variable, which comes from a Secret — the ConfigMap holds
no credential) or DynamoDB, offline store parquet on S3. Every pod runs as an IRSA
service account. The ``feast apply`` Job's name carries a hash of the configuration and
the repo image, so a change creates a new Job (it re-runs) and an unchanged config does
not.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra.base.aws_calls import AwsCall, Bucket, secret_value
from infra.base.isolation import Allow, Isolation, isolate, namespace_peer, scrape_from
from infra.base.k8s import (
    MANAGED_BY,
    RESTRICTED_NAMESPACE_LABELS,
    config_hash,
    container_security_context,
    env_list,
    labels,
    pod_security_context,
    secret_env,
    service_account_metadata,
    tmp_volume,
)
from infra.services.feast.config import FeastConfig
from policies.rules.images import image_problem

REGISTRY_KEY = "feast/registry.db"
# pipelines/Dockerfile: COPY pipelines/ /opt/mlops/pipelines/
REPO_DIR = "/opt/mlops/pipelines/feature_repo"
SERVER_PORT = 6566
METRICS_PORT = 8000
CONFIG_DIR = "/etc/feast"
REDIS_PASSWORD_ENV = "REDIS_PASSWORD"
MATERIALIZE = 'feast materialize-incremental "$(date -u +%Y-%m-%dT%H:%M:%S)"'


# ------------------------------------------------------------------ renderers


def redis_online_store(
    host: str, port: int, *, ssl: bool = True, password_env: str | None = REDIS_PASSWORD_ENV
) -> dict[str, Any]:
    """``online_store`` for Redis; the password is an environment reference Feast expands."""
    parts = [f"{host}:{port}"]
    if ssl:
        parts.append("ssl=true")
    if password_env:
        parts.append(f"password=${{{password_env}}}")
    return {"type": "redis", "connection_string": ",".join(parts)}


def dynamodb_online_store(region: str) -> dict[str, Any]:
    """``online_store`` for DynamoDB: one table per feature view, ``<project>.<view>``.

    Those tables are provisioned by OnlineStore (KMS, PITR) and the role may use only
    them: Feast finds each with DescribeTable and never creates one, so a feature view
    without a provisioned table fails ``feast apply`` instead of getting a table
    nobody encrypted or backs up.
    """
    return {
        "type": "dynamodb",
        "region": region,
        "table_name_template": "{project}.{table_name}",
        "consistent_reads": False,
    }


def render_feature_store_yaml(
    *,
    project: str,
    registry_path: str,
    online_store: Mapping[str, Any],
    offline_store: Mapping[str, Any] | None = None,
    provider: Literal["aws", "local"] = "aws",
    registry_cache_ttl_seconds: int = 60,
) -> str:
    """The ``feature_store.yaml`` every Feast process of the platform reads."""
    config = {
        "project": project,
        "provider": provider,
        "registry": {
            "registry_type": "file",
            "path": registry_path,
            "cache_ttl_seconds": registry_cache_ttl_seconds,
        },
        "online_store": dict(online_store),
        # parquet files the pipelines write (s3:// read through s3fs)
        "offline_store": dict(offline_store or {"type": "file"}),
        "entity_key_serialization_version": 3,
    }
    return yaml.safe_dump(config, sort_keys=False)


def feast_client_calls(registry: Bucket, redis_token: tuple[str, str, str] | None) -> list[AwsCall]:
    """What a Feast client calls first: its S3 registry (HeadBucket on every read, then the
    object), and the Redis AUTH token's secret (ARN, key alias, region) when the online
    store is Redis."""
    calls = [
        registry.head("Feast's S3 registry, on every read"),
        *registry.read(REGISTRY_KEY, "read Feast's registry"),
    ]
    if redis_token is not None:
        arn, alias, region = redis_token
        calls += secret_value(arn, alias, region, "read the Redis AUTH token")
    return calls


# ------------------------------------------------------------------ component


@dataclass(frozen=True, kw_only=True)
class RedisStore:
    """ElastiCache endpoint and where its AUTH token comes from.

    ``auth_token`` (a secret Output) is copied into a Kubernetes Secret; or
    ``auth_secret_arn`` names the Secrets Manager secret (JSON with ``auth_token``) that
    each pod reads at start through its IRSA role, so the token never enters etcd.
    """

    host: pulumi.Input[str]
    port: pulumi.Input[int]
    auth_token: pulumi.Input[str] | None = None
    auth_secret_arn: pulumi.Input[str] | None = None
    kind: Literal["redis"] = "redis"

    def __post_init__(self) -> None:
        if (self.auth_token is None) == (self.auth_secret_arn is None):
            raise ValueError("give exactly one of auth_token and auth_secret_arn")


AUTH_SECRET_ENV = "REDIS_AUTH_SECRET_ARN"
# Reads the token with the pod's IRSA credentials (boto3 ships in the feature-server image).
_FETCH_TOKEN = (
    "import boto3, json, os; print(json.loads(boto3.client('secretsmanager')"
    f".get_secret_value(SecretId=os.environ['{AUTH_SECRET_ENV}'])['SecretString'])"
    "['auth_token'])"
)


def with_fetched_password(command: list[str]) -> list[str]:
    """Wrap ``command`` so REDIS_PASSWORD is read from Secrets Manager first."""
    fetch = _FETCH_TOKEN.replace("'", '"')
    return [
        "sh",
        "-c",
        f"{REDIS_PASSWORD_ENV}=\"$(python -c '{fetch}')\" && export {REDIS_PASSWORD_ENV} "
        f"&& exec {shlex.join(command)}",
    ]


@dataclass(frozen=True, kw_only=True)
class DynamoDbStore:
    """The provisioned tables, ``<project>.<feature view>`` each."""

    table_names: Sequence[str]
    kind: Literal["dynamodb"] = "dynamodb"


@dataclass(frozen=True, kw_only=True)
class FeastStoreArgs:
    """Inputs of FeastStore.

    Attributes:
        config: The stack's ``components.feast`` section (image, namespace, project,
            schedule, sizing).
        repo_image: The image holding the feature repository (``feast apply`` runs it); None:
            no apply Job (the features pipeline applies the definitions).
        repo_dir: Directory of the feature repository inside ``repo_image`` (where
            pipelines/Dockerfile copies ``pipelines/``).
        repo_env: Environment of ``feast apply`` (where the definitions' sources are).
        registry_bucket: The bucket of Feast's registry (``feast/registry.db``): a bucket of
            its own, because Feast's S3 registry calls HeadBucket on every read, which needs
            a ListBucket grant on the whole bucket.
        region: AWS region (DynamoDB, S3).
        role_arn: IRSA role of the ``feast`` service account.
        online_store: ``RedisStore`` or ``DynamoDbStore`` outputs.
        service_account: Name of its service account (the IRSA subject).
        aws_calls: The AWS calls its pods make as that role (registry, sources, store).
        client_namespaces: Namespaces whose pods may call the feature server.
        monitoring_namespace: Where Prometheus runs (it scrapes the metrics port); None: off.
    """

    config: FeastConfig
    repo_image: pulumi.Input[str] | None
    registry_bucket: str
    region: str
    role_arn: pulumi.Input[str]
    online_store: RedisStore | DynamoDbStore
    repo_dir: str = REPO_DIR
    repo_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    service_account: str = "feast"
    aws_calls: Sequence[AwsCall] = ()
    client_namespaces: Sequence[str] = ()
    monitoring_namespace: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.repo_image, str) and (problem := image_problem(self.repo_image)):
            raise ValueError(f"repo_image {problem}")
        if isinstance(self.online_store, DynamoDbStore):
            project = self.config.project
            stray = [t for t in self.online_store.table_names if not t.startswith(f"{project}.")]
            if stray:
                raise ValueError(f"tables {stray} are not '{project}.<feature view>'")

    @property
    def namespace(self) -> str:
        return self.config.namespace

    @property
    def registry_path(self) -> str:
        return f"s3://{self.registry_bucket}/{REGISTRY_KEY}"


class FeastStore(pulumi.ComponentResource):
    """Feast on the cluster.

    Outputs:
        namespace: Namespace.
        feature_store_yaml: The rendered configuration (holds no credential).
        server_url: In-cluster URL of the feature server.
        registry_path: The registry every Feast client of the platform uses.
    """

    def __init__(
        self, name: str, args: FeastStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:kubernetes:FeastStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns_name = args.namespace
        app = "feast"
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": ns_name, "labels": {**MANAGED_BY, **RESTRICTED_NAMESPACE_LABELS}},
            opts=child,
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        # only the feature server takes traffic: from its clients, and Prometheus
        clients = [namespace_peer(n) for n in args.client_namespaces]
        isolate(
            name,
            ns_name,
            Isolation(
                [
                    *([Allow("clients", peers=clients, ports=[SERVER_PORT])] if clients else []),
                    *scrape_from(args.monitoring_namespace),
                ]
            ),
            in_ns,
        )
        sa = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=service_account_metadata(
                args.service_account, ns_name, args.role_arn, args.aws_calls
            ),
            opts=in_ns,
        )

        store = args.online_store
        env: list[dict[str, Any]] = [{"name": "HOME", "value": "/tmp"}]
        if isinstance(store, RedisStore):
            online: pulumi.Output[dict[str, Any]] = pulumi.Output.all(store.host, store.port).apply(
                lambda v: redis_online_store(str(v[0]), int(v[1]))
            )
            if store.auth_token is not None:
                k8s.core.v1.Secret(
                    f"{name}-redis",
                    metadata={"name": "feast-redis", "namespace": ns_name, "labels": labels(app)},
                    string_data={"password": pulumi.Output.secret(store.auth_token)},
                    opts=in_ns,
                )
                env.append(secret_env(REDIS_PASSWORD_ENV, "feast-redis", "password"))
            else:
                env.append({"name": AUTH_SECRET_ENV, "value": store.auth_secret_arn})
        else:
            online = pulumi.Output.from_input(dynamodb_online_store(args.region))
        fetch = isinstance(store, RedisStore) and store.auth_secret_arn is not None
        env.append({"name": "AWS_REGION", "value": args.region})
        self.feature_store_yaml: pulumi.Output[str] = online.apply(
            lambda o: render_feature_store_yaml(
                project=args.config.project, registry_path=args.registry_path, online_store=o
            )
        )
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": "feast-config", "namespace": ns_name, "labels": labels(app)},
            data={"feature_store.yaml": self.feature_store_yaml},
            opts=in_ns,
        )
        tmp, tmp_mount = tmp_volume()
        volumes = [tmp, {"name": "config", "configMap": {"name": "feast-config"}}]
        mounts = [tmp_mount, {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}]
        env.append({"name": "FEAST_FS_YAML_FILE_PATH", "value": f"{CONFIG_DIR}/feature_store.yaml"})
        pod_spec_base: dict[str, Any] = {
            "serviceAccountName": args.service_account,
            "securityContext": pod_security_context(),
            "volumes": volumes,
        }
        after = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, sa, config_map])

        def container(
            name_: str, image: pulumi.Input[str], command: list[str], **extra: Any
        ) -> dict[str, Any]:
            return {
                "name": name_,
                "image": image,
                "command": with_fetched_password(command) if fetch else command,
                "env": env,
                "resources": args.config.resources.render(),
                "securityContext": container_security_context(),
                "volumeMounts": mounts,
                **extra,
            }

        selector = {"app.kubernetes.io/name": app}
        pod_labels = labels(app, "feature-server")
        probe = {"tcpSocket": {"port": "http"}, "periodSeconds": 10}
        k8s.apps.v1.Deployment(
            f"{name}-server",
            metadata={"name": app, "namespace": ns_name, "labels": pod_labels},
            spec={
                "replicas": args.config.replicas,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": pod_labels},
                    "spec": {
                        **pod_spec_base,
                        "containers": [
                            container(
                                app,
                                args.config.image,
                                [
                                    "feast",
                                    "serve",
                                    "--host",
                                    "0.0.0.0",
                                    "--port",
                                    str(SERVER_PORT),
                                    "--metrics",
                                    "--no-access-log",
                                ],
                                ports=[
                                    {"name": "http", "containerPort": SERVER_PORT},
                                    {"name": "metrics", "containerPort": METRICS_PORT},
                                ],
                                readinessProbe=probe,
                                livenessProbe={**probe, "failureThreshold": 6},
                            )
                        ],
                    },
                },
            },
            opts=after,
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": app, "namespace": ns_name, "labels": labels(app)},
            spec={
                "type": "ClusterIP",
                "selector": selector,
                "ports": [
                    {"name": "http", "port": 80, "targetPort": "http"},
                    {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics"},
                ],
            },
            opts=in_ns,
        )
        job_pod = {**pod_spec_base, "restartPolicy": "OnFailure"}
        k8s.batch.v1.CronJob(
            f"{name}-materialize",
            metadata={"name": "feast-materialize", "namespace": ns_name, "labels": labels(app)},
            spec={
                "schedule": args.config.materialize_schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 2,
                        "template": {
                            "metadata": {"labels": labels(app, "materialize")},
                            "spec": {
                                **job_pod,
                                "containers": [
                                    container(
                                        "materialize",
                                        args.config.image,
                                        ["sh", "-c", MATERIALIZE],
                                    )
                                ],
                            },
                        },
                    }
                },
            },
            opts=after,
        )
        if args.repo_image is not None:
            job_name = pulumi.Output.all(
                self.feature_store_yaml, args.repo_image, dict(args.repo_env)
            ).apply(lambda v: f"feast-apply-{config_hash(*v)}")
            apply = container("apply", args.repo_image, ["feast", "-c", args.repo_dir, "apply"])
            apply["env"] = [*apply["env"], *env_list(args.repo_env)]
            k8s.batch.v1.Job(
                f"{name}-apply",
                metadata={"name": job_name, "namespace": ns_name, "labels": labels(app, "apply")},
                spec={
                    "backoffLimit": 3,
                    "template": {
                        "metadata": {"labels": labels(app, "apply")},
                        "spec": {**job_pod, "containers": [apply]},
                    },
                },
                opts=after,
            )
        self.server_url = f"http://{app}.{ns_name}.svc.cluster.local"
        self.registry_path = args.registry_path
        self.register_outputs(
            {
                "namespace": ns_name,
                "feature_store_yaml": self.feature_store_yaml,
                "server_url": self.server_url,
                "registry_path": self.registry_path,
            }
        )
