"""MlflowServer: the MLflow tracking server and model registry, authenticated by default.

* Postgres backend: the URI is built from the database outputs into a Kubernetes
  Secret and reaches the container only through ``MLFLOW_BACKEND_STORE_URI`` from that
  Secret — never in args, env literals or the plan in plaintext.
* Artifacts are proxied (``--serve-artifacts``) to ``s3://<bucket>/<prefix>`` through
  an IRSA service account, uploads SSE-KMS with the store's key.
* Never anonymous: ``basic-auth`` runs MLflow's auth app with a generated admin
  password (pulumi_random, secret) in a Secret; ``oidc`` puts oauth2-proxy in front.
* Non-root, read-only root filesystem (``/tmp`` is an emptyDir), limits, probes on
  ``/health``; background job execution off (it forks ~2 GiB of workers).
* Metrics on a port of their own (``metrics``, ``METRICS_PORT``): a sidecar in the MLflow
  image serves what the server's Prometheus exporter writes to its multiprocess directory.
  MLflow's own ``/metrics`` cannot be scraped: its host check (``--allowed-hosts``) refuses
  the pod-IP Host header Prometheus sends (403), and its auth app answers ``/metrics`` to
  admins only (3.16+ authorizes fail-closed: no permission covers the route, so any other
  user gets 403), while Prometheus must never hold the admin password.
* Workspaces and their users (``workspaces``): MLflow runs with ``--enable-workspaces``
  and an auth app that grants nothing by default; with basic-auth every user (a team's
  pipeline user and people, ``pipelines`` in ``default`` for the shared runner) gets a
  generated password, and a Job runs ``mlops_runtime/mlflow_teams.py reconcile`` once the
  server is up: a workspace per team at the team's prefix, one role in it for its users,
  removed teams' access withdrawn (their workspace kept unless ``purge`` names it). Clients
  never hold the admin password.

``backend_store_uri``, ``render_auth_ini`` and ``render_server_settings`` are plain
functions: tests render them for a local PostgreSQL and run a real server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from infra.base.aws_calls import AwsCall
from infra.base.config import Resources
from infra.base.exposure import PROXY_PORT, OidcProxyArgs, oauth2_proxy, tls_ingress
from infra.base.isolation import Isolation, acme_solver, isolate
from infra.base.k8s import (
    MANAGED_BY,
    RESTRICTED_NAMESPACE_LABELS,
    config_hash,
    container_security_context,
    labels,
    pod_security_context,
    secret_env,
    service_account_metadata,
    tmp_volume,
)
from infra.services.mlflow.config import MlflowConfig
from mlops_runtime import mlflow_teams

PORT = 5000
AUTH_CONFIG_DIR = "/etc/mlflow-auth"
USERS_DIR = "/etc/mlflow-users"
USERS_APP = "mlflow-users"
TEAMS_CONFIG = "mlflow-teams"

TEAMS_DIR = "/etc/mlflow-teams"
# the teams Job runs this file of the runtime library in the MLflow image (it imports only
# MLflow), mounted from a ConfigMap next to the spec it reconciles
TEAMS_SCRIPT = Path(mlflow_teams.__file__)
PROMETHEUS_DIR = "/tmp/prometheus"
METRICS_PORT = 9102
METRICS_APP = "metrics"
# Run by the metrics sidecar (``python -c``) in the MLflow image: prometheus_client's
# multiprocess collector reads the files every server worker writes to MLOPS_METRICS_DIR
# (``--expose-prometheus``), the same aggregation MLflow's own /metrics does, on a port
# with no host check and no login. Tests run this text against a real server.
METRICS_EXPORTER = """\
import os
from wsgiref.simple_server import WSGIRequestHandler, make_server
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.multiprocess import MultiProcessCollector

registry = CollectorRegistry()
MultiProcessCollector(registry, path=os.environ["MLOPS_METRICS_DIR"])


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):  # every scrape would be a log line
        pass


port = int(os.environ["MLOPS_METRICS_PORT"])
make_server("0.0.0.0", port, make_wsgi_app(registry), handler_class=Quiet).serve_forever()
"""


# ------------------------------------------------------------------ renderers


def backend_store_uri(
    *,
    host: str,
    port: int,
    database: str,
    username: str,
    password: str,
    dialect: str = "postgresql+psycopg",
    sslmode: str | None = "require",
) -> str:
    """SQLAlchemy URL of the backend store; credentials are percent-encoded."""
    uri = (
        f"{dialect}://{quote(username, safe='')}:{quote(password, safe='')}"
        f"@{host}:{port}/{database}"
    )
    return f"{uri}?sslmode={sslmode}" if sslmode else uri


# How long the auth app trusts a checked credential (MLflow's default 0: never). Without
# it every request pays a scrypt password check: measured here ~0.5 s per request on a
# 2-core machine (a training run makes hundreds). A password change or deletion made on
# this worker takes effect at once (MLflow drops that user's entries); on another worker or
# replica after at most this long.
AUTH_CACHE_SECONDS = 60


def render_auth_ini(
    *,
    database_uri: str,
    default_permission: str = mlflow_teams.DEFAULT_PERMISSION,
    auth_cache_seconds: int = AUTH_CACHE_SECONDS,
) -> str:
    """``basic_auth.ini`` of MLflow's auth app (users live in the backend database).

    The admin password is not in the file: it comes from ``MLFLOW_AUTH_ADMIN_PASSWORD``.
    MLflow reads the file with configparser, whose interpolation treats ``%`` (as in a
    percent-encoded password) as a reference, so it is doubled.
    """
    database_uri = database_uri.replace("%", "%%")
    return (
        "[mlflow]\n"
        f"default_permission = {default_permission}\n"
        f"database_uri = {database_uri}\n"
        "admin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        f"auth_cache_ttl_seconds = {auth_cache_seconds}\n"
    )


@dataclass(frozen=True)
class ServerSettings:
    """Command line and non-secret environment of ``mlflow server``.

    Secret settings (backend URI, admin password, Flask secret key) are the names in
    ``secret_env``; the caller supplies their values (a Kubernetes Secret, or a test).
    """

    args: list[str]
    env: dict[str, str]
    secret_env: tuple[str, ...]


def render_server_settings(
    *,
    artifacts_destination: str,
    workers: int = 1,
    job_execution: bool = False,
    basic_auth: bool = True,
    auth_config_path: str | None = None,
    kms_key_arn: str | None = None,
    allowed_hosts: Sequence[str] = (),
    host: str = "0.0.0.0",
    port: int = PORT,
    prometheus_dir: str | None = PROMETHEUS_DIR,
    workspaces: bool = True,
) -> ServerSettings:
    """Render how the tracking server starts.

    Args:
        artifacts_destination: Where proxied artifacts go, e.g. ``s3://bucket/mlflow``.
        workers: Server worker processes.
        job_execution: Run MLflow's background job runner (needs ~2 GiB more).
        basic_auth: Start the basic-auth app (``--app-name basic-auth``).
        auth_config_path: Path of the rendered ``basic_auth.ini``.
        kms_key_arn: Upload artifacts with SSE-KMS under this key.
        allowed_hosts: Host headers accepted besides localhost (Service DNS, domain).
        host: Bind address.
        port: Port.
        prometheus_dir: Directory for the Prometheus exporter (``/metrics``); None: off.
        workspaces: MLflow workspaces (``--enable-workspaces``): one per team
            (``mlops_runtime.mlflow_teams``), experiments and models of one invisible to
            another's users; what existed before lives in ``default``.
    """
    if basic_auth and not auth_config_path:
        raise ValueError("basic_auth needs auth_config_path")
    args = [
        "mlflow",
        "server",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--serve-artifacts",
        "--artifacts-destination",
        artifacts_destination,
    ]
    if allowed_hosts:
        args += ["--allowed-hosts", ",".join(allowed_hosts)]
    if prometheus_dir:
        args += ["--expose-prometheus", prometheus_dir]
    if basic_auth:
        args += ["--app-name", "basic-auth"]
    if workspaces:
        args += ["--enable-workspaces"]
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "true" if job_execution else "false"}
    if kms_key_arn:
        env["MLFLOW_S3_UPLOAD_EXTRA_ARGS"] = json.dumps(
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_arn}, sort_keys=True
        )
    secrets = ["MLFLOW_BACKEND_STORE_URI"]
    if basic_auth:
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(auth_config_path)
        secrets += ["MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY"]
    return ServerSettings(args=args, env=env, secret_env=tuple(secrets))


def service_hosts(app: str, namespace: str, domain: str | None) -> list[str]:
    """Host headers the server accepts: its Service's names and the public domain.

    Pod IPs are not among them: nothing calls a pod by address but Prometheus, which
    scrapes the metrics sidecar instead (the host check has no exemption for /metrics).
    """
    return [
        f"{app}.{namespace}.svc.cluster.local",
        f"{app}.{namespace}.svc",
        f"{app}.{namespace}",
        app,
        *([domain] if domain else []),
    ]


def metrics_sidecar(image: str) -> dict[str, Any]:
    """The container serving the server's metrics on ``METRICS_PORT`` (``METRICS_EXPORTER``)."""
    probe: dict[str, Any] = {"httpGet": {"path": "/metrics", "port": METRICS_APP}}
    return {
        "name": METRICS_APP,
        "image": image,
        "command": ["python", "-c", METRICS_EXPORTER],
        "env": [
            {"name": "MLOPS_METRICS_DIR", "value": PROMETHEUS_DIR},
            {"name": "MLOPS_METRICS_PORT", "value": str(METRICS_PORT)},
            {"name": "HOME", "value": "/tmp"},
        ],
        "ports": [{"name": METRICS_APP, "containerPort": METRICS_PORT}],
        "resources": Resources(
            cpu_request="10m", memory_request="48Mi", cpu_limit="200m", memory_limit="128Mi"
        ).render(),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "prometheus", "mountPath": PROMETHEUS_DIR, "readOnly": True}],
        "readinessProbe": probe,
        "livenessProbe": {**probe, "failureThreshold": 6},
    }


# ------------------------------------------------------------------ component


@dataclass(frozen=True, kw_only=True)
class MlflowServerArgs:
    """Inputs of MlflowServer.

    Attributes:
        config: The stack's ``components.mlflow`` section (image, namespace, sizing,
            autoscaling, database name).
        artifact_bucket: ArtifactStore bucket name; artifacts go under ``artifact_prefix``.
        kms_key_arn: Key artifacts are uploaded with (SSE-KMS).
        role_arn: IRSA role of the server's service account (read-write on the prefix).
        db_host / db_port / db_username / db_password: Backend database
            (the password is a secret Output from the database component).
        service_account: Name of its service account (the IRSA subject).
        auth: ``basic-auth`` (default) or ``oidc`` (oauth2-proxy; ``oidc`` required).
        domain: Host name of the Ingress; ``None``: no Ingress.
        ingress_class / cluster_issuer: Ingress class and cert-manager ClusterIssuer.
        client_namespaces: Namespaces whose pods may call the server.
        metrics_namespaces: Namespaces whose pods (Prometheus) may scrape the metrics port.
        ingress_source_cidrs: Where the load balancer's traffic comes from (the VPC).
        workspaces: MLflow workspaces with their users (`mlflow_teams.Workspace`;
            basic-auth only: with OIDC the proxy authenticates and MLflow grants nothing
            per workspace, docs/threat-model.md).
        purge: Removed teams' workspaces to delete with their content.
        aws_calls: The AWS calls the server makes as its role (the artifact proxy).
    """

    config: MlflowConfig
    artifact_bucket: str
    kms_key_arn: pulumi.Input[str] | None
    role_arn: pulumi.Input[str]
    db_host: pulumi.Input[str]
    db_port: pulumi.Input[int]
    db_username: pulumi.Input[str]
    db_password: pulumi.Input[str]
    artifact_prefix: str = "mlflow"
    service_account: str = "mlflow"
    auth: Literal["basic-auth", "oidc"] = "basic-auth"
    oidc: OidcProxyArgs | None = None
    domain: str | None = None
    ingress_class: str = "alb"
    cluster_issuer: str = "acme"
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    client_namespaces: Sequence[str] = ()
    metrics_namespaces: Sequence[str] = ()
    ingress_source_cidrs: Sequence[str] = ()
    workspaces: Sequence[mlflow_teams.Workspace] = ()
    purge: Sequence[str] = ()
    aws_calls: Sequence[AwsCall] = ()

    def __post_init__(self) -> None:
        if self.auth == "oidc" and self.oidc is None:
            raise ValueError("auth 'oidc' needs oidc settings")
        for user in self.users:
            if user == "admin" or not user.replace("-", "").replace(".", "").isalnum():
                raise ValueError(f"user {user!r}: use letters, digits, '.' and '-', not 'admin'")
        self.teams_spec.check()

    @property
    def users(self) -> list[str]:
        """Every account the Job keeps, in the order of the workspaces."""
        return [u for w in self.workspaces for u in w.users]

    @property
    def teams_spec(self) -> mlflow_teams.Spec:
        return mlflow_teams.Spec(workspaces=tuple(self.workspaces), purge=tuple(self.purge))

    @property
    def namespace(self) -> str:
        return self.config.namespace

    @property
    def artifacts_destination(self) -> str:
        return f"s3://{self.artifact_bucket}/{self.artifact_prefix.strip('/')}"


class MlflowServer(pulumi.ComponentResource):
    """MLflow tracking server.

    Outputs:
        namespace: Namespace of the server.
        service_name: ClusterIP Service (port 80) clients use.
        tracking_uri: In-cluster tracking URI.
        artifacts_destination: Where proxied artifacts are stored (``s3://<bucket>/<prefix>``).
        admin_password: Generated basic-auth admin password (secret), or None.
        user_passwords: User -> generated password (secret) of each service user
            (basic-auth; empty with OIDC).
        url: Public URL when a domain is configured.
    """

    def __init__(
        self, name: str, args: MlflowServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:kubernetes:MlflowServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        app = "mlflow"
        ns_name = args.namespace
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": ns_name, "labels": {**MANAGED_BY, **RESTRICTED_NAMESPACE_LABELS}},
            opts=child,
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=service_account_metadata(
                args.service_account, ns_name, args.role_arn, args.aws_calls
            ),
            automount_service_account_token=True,  # IRSA's projected token needs it
            opts=in_ns,
        )

        basic_auth = args.auth == "basic-auth"
        settings = render_server_settings(
            artifacts_destination=args.artifacts_destination,
            workers=args.config.workers,
            job_execution=args.config.job_execution,
            basic_auth=basic_auth,
            auth_config_path=f"{AUTH_CONFIG_DIR}/basic_auth.ini" if basic_auth else None,
            kms_key_arn="$(MLFLOW_KMS_KEY_ARN)" if args.kms_key_arn is not None else None,
            allowed_hosts=service_hosts(app, ns_name, args.domain),
        )
        uri = pulumi.Output.all(
            args.db_host, args.db_port, args.db_username, args.db_password
        ).apply(
            lambda v: backend_store_uri(
                host=str(v[0]),
                port=int(v[1]),
                database=args.config.database_name,
                username=str(v[2]),
                password=str(v[3]),
            )
        )
        secret_data: dict[str, pulumi.Input[str]] = {
            "MLFLOW_BACKEND_STORE_URI": pulumi.Output.secret(uri)
        }
        self.admin_password: pulumi.Output[str] | None = None
        if basic_auth:
            admin = random.RandomPassword(
                f"{name}-admin-password", length=32, special=False, opts=child
            )
            flask_key = random.RandomPassword(
                f"{name}-flask-secret-key", length=48, special=False, opts=child
            )
            self.admin_password = pulumi.Output.secret(admin.result)
            secret_data["MLFLOW_AUTH_ADMIN_PASSWORD"] = pulumi.Output.secret(admin.result)
            secret_data["MLFLOW_FLASK_SERVER_SECRET_KEY"] = pulumi.Output.secret(flask_key.result)
            secret_data["basic_auth.ini"] = pulumi.Output.secret(
                uri.apply(lambda u: render_auth_ini(database_uri=u))
            )
        backend_secret = f"{app}-backend"
        k8s.core.v1.Secret(
            f"{name}-backend",
            metadata={"name": backend_secret, "namespace": ns_name, "labels": labels(app)},
            type="Opaque",
            string_data=secret_data,
            opts=in_ns,
        )

        tmp, tmp_mount = tmp_volume("1Gi")
        # the exporter's multiprocess files, shared with the metrics sidecar
        metrics_volume = {"name": "prometheus", "emptyDir": {"sizeLimit": "64Mi"}}
        volumes = [tmp, metrics_volume]
        mounts = [tmp_mount, {"name": "prometheus", "mountPath": PROMETHEUS_DIR}]
        if basic_auth:
            volumes.append(
                {
                    "name": "auth-config",
                    "secret": {
                        "secretName": backend_secret,
                        "items": [{"key": "basic_auth.ini", "path": "basic_auth.ini"}],
                        "defaultMode": 0o440,
                    },
                }
            )
            mounts.append({"name": "auth-config", "mountPath": AUTH_CONFIG_DIR, "readOnly": True})
        env: list[dict[str, Any]] = [
            secret_env(key, backend_secret, key) for key in settings.secret_env
        ]
        if args.kms_key_arn is not None:
            env.append({"name": "MLFLOW_KMS_KEY_ARN", "value": args.kms_key_arn})
        env += [{"name": k, "value": v} for k, v in sorted(settings.env.items())]
        env.append({"name": "HOME", "value": "/tmp"})
        probe: dict[str, Any] = {
            "httpGet": {"path": "/health", "port": "http"},
            "periodSeconds": 10,
        }
        startup_probe: dict[str, Any] = {**probe, "failureThreshold": 30}
        liveness_probe: dict[str, Any] = {**probe, "failureThreshold": 6}
        pod_labels = {**labels(app, "tracking-server"), **args.extra_labels}
        selector = {"app.kubernetes.io/name": app}
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": app, "namespace": ns_name, "labels": pod_labels},
            spec={
                # with an HPA the Deployment must not pin a count (each update would reset it)
                **({} if args.config.autoscaling.enabled else {"replicas": args.config.replicas}),
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": pod_labels},
                    "spec": {
                        "serviceAccountName": args.service_account,
                        "securityContext": pod_security_context(),
                        "containers": [
                            {
                                "name": app,
                                "image": args.config.image,
                                "args": settings.args,
                                "env": env,
                                "ports": [{"name": "http", "containerPort": PORT}],
                                "resources": args.config.resources.render(),
                                "securityContext": container_security_context(),
                                "volumeMounts": mounts,
                                "startupProbe": startup_probe,
                                "readinessProbe": probe,
                                "livenessProbe": liveness_probe,
                            },
                            metrics_sidecar(args.config.image),
                        ],
                        "volumes": volumes,
                    },
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.namespace, self.service_account]
            ),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": app, "namespace": ns_name, "labels": labels(app)},
            spec={
                "type": "ClusterIP",
                "selector": selector,
                "ports": [
                    {"name": "http", "port": 80, "targetPort": "http"},
                    {"name": METRICS_APP, "port": METRICS_PORT, "targetPort": METRICS_APP},
                ],
            },
            opts=in_ns,
        )
        scaling = args.config.autoscaling
        if scaling.enabled:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata={"name": app, "namespace": ns_name, "labels": labels(app)},
                spec={
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                    "minReplicas": scaling.min_replicas,
                    "maxReplicas": scaling.max_replicas,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {
                                    "type": "Utilization",
                                    "averageUtilization": scaling.target_cpu_percent,
                                },
                            },
                        }
                    ],
                },
                opts=in_ns,
            )

        self.service_name = app
        self.tracking_uri = f"http://{app}.{ns_name}.svc.cluster.local"
        self.artifacts_destination = args.artifacts_destination
        backend_service, backend_port = app, 80
        if args.auth == "oidc" and args.oidc is not None:
            backend_service, backend_port = oauth2_proxy(
                self,
                name,
                namespace=ns_name,
                upstream=self.tracking_uri,
                oidc=args.oidc,
                domain=args.domain,
                opts=in_ns,
            )
        self.user_passwords: dict[str, pulumi.Output[str]] = {}
        if basic_auth and (args.workspaces or args.purge):
            self._teams(name, args, backend_secret, in_ns)
        self._network_policies(name, args, ns_name, in_ns)
        self.url: str | None = None
        if args.domain:
            tls_ingress(
                name,
                namespace=ns_name,
                host=args.domain,
                service=backend_service,
                port=backend_port,
                ingress_class=args.ingress_class,
                cluster_issuer=args.cluster_issuer,
                auth=args.auth,
                opts=in_ns,
            )
            self.url = f"https://{args.domain}"
        self.register_outputs(
            {
                "namespace": ns_name,
                "service_name": app,
                "tracking_uri": self.tracking_uri,
                "admin_password": self.admin_password,
                "user_passwords": self.user_passwords,
                "url": self.url,
            }
        )

    def _teams(
        self, name: str, args: MlflowServerArgs, backend_secret: str, opts: pulumi.ResourceOptions
    ) -> None:
        """Workspaces and users: the spec and the script in a ConfigMap, passwords in the
        ``mlflow-users`` Secret, applied by a Job as admin.

        The Job's name carries a hash of the spec, the script and the image, so a change of
        teams runs it again; Pulumi waits for the Deployment (ready) and then for the Job.
        """
        ns = args.namespace
        child = pulumi.ResourceOptions(parent=self)
        for user in args.users:
            password = random.RandomPassword(
                f"{name}-user-{user}-password", length=32, special=False, opts=child
            )
            self.user_passwords[user] = pulumi.Output.secret(password.result)
        users_secret = k8s.core.v1.Secret(
            f"{name}-users",
            metadata={"name": USERS_APP, "namespace": ns, "labels": labels(USERS_APP)},
            type="Opaque",
            string_data=dict(self.user_passwords),
            opts=opts,
        )
        spec, script = args.teams_spec.to_json(), TEAMS_SCRIPT.read_text()
        teams_config = k8s.core.v1.ConfigMap(
            f"{name}-teams",
            metadata={"name": TEAMS_CONFIG, "namespace": ns, "labels": labels(USERS_APP)},
            data={"spec.json": spec, TEAMS_SCRIPT.name: script},
            opts=opts,
        )
        tmp, tmp_mount = tmp_volume("64Mi")
        job_name = f"{USERS_APP}-{config_hash(spec, script, args.config.image)}"
        k8s.batch.v1.Job(
            f"{name}-users-job",
            metadata={"name": job_name, "namespace": ns, "labels": labels(USERS_APP)},
            spec={
                "backoffLimit": 6,
                "template": {
                    "metadata": {"labels": labels(USERS_APP)},
                    "spec": {
                        "restartPolicy": "Never",
                        "automountServiceAccountToken": False,
                        "securityContext": pod_security_context(),
                        "containers": [
                            {
                                "name": "bootstrap",
                                "image": args.config.image,
                                "command": [
                                    "python",
                                    f"{TEAMS_DIR}/{TEAMS_SCRIPT.name}",
                                    "reconcile",
                                    "--spec",
                                    f"{TEAMS_DIR}/spec.json",
                                    "--passwords",
                                    USERS_DIR,
                                ],
                                "env": [
                                    {
                                        "name": "MLFLOW_TRACKING_URI",
                                        "value": self.tracking_uri,
                                    },
                                    {"name": "MLFLOW_TRACKING_USERNAME", "value": "admin"},
                                    secret_env(
                                        "MLFLOW_TRACKING_PASSWORD",
                                        backend_secret,
                                        "MLFLOW_AUTH_ADMIN_PASSWORD",
                                    ),
                                    {"name": "HOME", "value": "/tmp"},
                                ],
                                "resources": Resources(
                                    memory_request="256Mi", memory_limit="512Mi", cpu_limit="500m"
                                ).render(),
                                "securityContext": container_security_context(),
                                "volumeMounts": [
                                    tmp_mount,
                                    {"name": "users", "mountPath": USERS_DIR, "readOnly": True},
                                    {"name": "teams", "mountPath": TEAMS_DIR, "readOnly": True},
                                ],
                            }
                        ],
                        "volumes": [
                            tmp,
                            {
                                "name": "users",
                                "secret": {"secretName": USERS_APP, "defaultMode": 0o440},
                            },
                            {
                                "name": "teams",
                                "configMap": {
                                    "name": TEAMS_CONFIG,
                                    "defaultMode": 0o444,
                                },
                            },
                        ],
                    },
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.deployment, self.service, users_secret, teams_config],
            ),
        )

    def _network_policies(
        self, name: str, args: MlflowServerArgs, ns: str, opts: pulumi.ResourceOptions
    ) -> None:
        """Who may reach the server: listed namespaces, the auth proxy, the load balancer.

        In ``oidc`` mode MLflow itself does not authenticate, so only the proxy may take
        traffic from the load balancer; in ``basic-auth`` mode the server may.
        """
        sources: list[dict[str, Any]] = [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}
            for n in args.client_namespaces
        ]
        oidc = args.auth == "oidc"
        if not oidc and args.users:
            sources.append({"podSelector": {"matchLabels": {"app.kubernetes.io/name": USERS_APP}}})
        if oidc:
            sources.append(
                {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "oauth2-proxy"}}}
            )
        elif args.domain:
            sources += [{"ipBlock": {"cidr": c}} for c in args.ingress_source_cidrs]
        policies: list[tuple[str, str, list[dict[str, Any]], int]] = [
            ("mlflow", "mlflow", sources, PORT)
        ]
        if args.metrics_namespaces:
            scrapers = [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}
                for n in args.metrics_namespaces
            ]
            policies.append(("mlflow-metrics", "mlflow", scrapers, METRICS_PORT))
        if oidc and args.domain:
            policies.append(
                (
                    "oauth2-proxy",
                    "oauth2-proxy",
                    [{"ipBlock": {"cidr": c}} for c in args.ingress_source_cidrs],
                    PROXY_PORT,
                )
            )
        # every other pod of the namespace (the users Job, the proxy without a domain) takes
        # nothing; with a domain, cert-manager's HTTP-01 solver answers the load balancer
        isolate(name, ns, Isolation(acme_solver(args.domain)), opts)
        for policy, app, peers, port in policies:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-netpol-{policy}",
                metadata={"name": f"{policy}-ingress", "namespace": ns, "labels": labels(app)},
                spec={
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": peers, "ports": [{"protocol": "TCP", "port": port}]}],
                },
                opts=opts,
            )
