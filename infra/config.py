"""The one validated model of a stack's configuration (`mlops-platform:platform`).

Environments differ only in the values of this model. Every mistake is reported
with its field path (``platform.cluster.oidc_provider_arn: ...``) so that a
platform engineer can fix the YAML without reading this file.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

CONFIG_KEY = "mlops-platform:platform"
REQUIRED_TAGS = ("owner", "cost-center", "data-classification")
ENVIRONMENT_TAG = "environment"

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
_DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
_OIDC_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$")


class ConfigError(ValueError):
    """A configuration mistake, already formatted as ``path: reason``."""


class FieldProblem(ValueError):
    """Raised by model validators so the error names the exact sub-field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR block ({exc})") from None
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(Strict):
    """VPC layout. Ignored (and must stay default) when the cluster is brought in."""

    cidr: Cidr = "10.40.0.0/16"
    az_count: int = Field(default=2, ge=1, le=3)
    nat_gateways: Literal["single", "per_az"] = "single"
    s3_gateway_endpoint: bool = True
    interface_endpoints: list[Literal["ecr.api", "ecr.dkr", "sts", "logs"]] = Field(
        default_factory=list
    )
    flow_logs: bool = False
    flow_logs_retention_days: int = Field(default=30, ge=1, le=3653)

    @model_validator(mode="after")
    def _check(self) -> NetworkConfig:
        net = ipaddress.ip_network(self.cidr)
        if not 16 <= net.prefixlen <= 20:
            raise FieldProblem("cidr", f"prefix length must be /16 to /20, got /{net.prefixlen}")
        if not net.is_private:
            raise FieldProblem("cidr", f"{self.cidr} is not a private (RFC 1918) range")
        if len(set(self.interface_endpoints)) != len(self.interface_endpoints):
            raise FieldProblem("interface_endpoints", "lists an endpoint twice")
        return self


class NodeGroupConfig(Strict):
    enabled: bool = True
    instance_types: list[str] = Field(default_factory=lambda: ["m6i.large"], min_length=1)
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = Field(default=1, ge=0)
    desired_size: int = Field(default=2, ge=0)
    max_size: int = Field(default=3, ge=0)
    disk_size_gb: int = Field(default=50, ge=20, le=2000)

    @model_validator(mode="after")
    def _check(self) -> NodeGroupConfig:
        if self.enabled and self.max_size < 1:
            raise FieldProblem("max_size", "must be at least 1 when the group is enabled")
        if self.min_size > self.max_size:
            raise FieldProblem("min_size", f"{self.min_size} is above max_size {self.max_size}")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise FieldProblem(
                "desired_size",
                f"{self.desired_size} is outside min_size..max_size "
                f"({self.min_size}..{self.max_size})",
            )
        return self


def _gpu_default() -> NodeGroupConfig:
    return NodeGroupConfig(
        enabled=False, instance_types=["g5.xlarge"], min_size=0, desired_size=0, max_size=1
    )


class NodeGroups(Strict):
    system: NodeGroupConfig = Field(default_factory=NodeGroupConfig)
    workloads: NodeGroupConfig = Field(default_factory=NodeGroupConfig)
    gpu: NodeGroupConfig = Field(default_factory=_gpu_default)

    @model_validator(mode="after")
    def _check(self) -> NodeGroups:
        if not self.system.enabled:
            raise FieldProblem("system.enabled", "the system node group cannot be disabled")
        if self.system.capacity_type != "ON_DEMAND":
            raise FieldProblem(
                "system.capacity_type", "must be ON_DEMAND: cluster add-ons cannot run on spot"
            )
        return self


class ClusterConfig(Strict):
    mode: Literal["create", "existing"] = "create"
    version: str = Field(default="1.33", pattern=r"^1\.\d{2}$")
    endpoint_public_access: bool = False
    public_access_cidrs: list[Cidr] = Field(default_factory=list)
    log_types: list[LogType] = Field(
        default_factory=lambda: list[LogType](["api", "audit", "authenticator"])
    )
    node_groups: NodeGroups = Field(default_factory=NodeGroups)
    log_retention_days: int = Field(default=90, ge=1, le=3653)
    # bring-your-own cluster: how to reach it and where its nodes live (the
    # databases and the cache go into that VPC and admit only that group)
    kubeconfig: str | None = None
    oidc_provider_arn: str | None = None
    vpc_id: str | None = Field(default=None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    private_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list
    )
    node_security_group_id: str | None = Field(default=None, pattern=r"^sg-[0-9a-f]{8,17}$")
    # optional: lets the nodes pull from the registry through its repository policy
    node_role_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")

    @model_validator(mode="after")
    def _check(self) -> ClusterConfig:
        if self.mode == "existing":
            if not self.kubeconfig:
                raise FieldProblem("kubeconfig", "is required when mode is 'existing'")
            if not self.oidc_provider_arn:
                raise FieldProblem("oidc_provider_arn", "is required when mode is 'existing'")
            if self.endpoint_public_access:
                raise FieldProblem("endpoint_public_access", "only applies when mode is 'create'")
            for field in ("vpc_id", "node_security_group_id"):
                if not getattr(self, field):
                    raise FieldProblem(field, "is required when mode is 'existing'")
            if len(self.private_subnet_ids) < 2:
                raise FieldProblem(
                    "private_subnet_ids",
                    "needs at least 2 subnets (in different zones) when mode is 'existing'",
                )
        else:
            for field in (
                "kubeconfig",
                "oidc_provider_arn",
                "vpc_id",
                "private_subnet_ids",
                "node_security_group_id",
                "node_role_arn",
            ):
                if getattr(self, field):
                    raise FieldProblem(field, "only applies when mode is 'existing'")
        if self.oidc_provider_arn and not _OIDC_ARN.match(self.oidc_provider_arn):
            raise FieldProblem(
                "oidc_provider_arn",
                f"{self.oidc_provider_arn!r} is not an IAM OIDC provider ARN",
            )
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise FieldProblem(
                "public_access_cidrs", "is required when endpoint_public_access is true"
            )
        if self.public_access_cidrs and not self.endpoint_public_access:
            raise FieldProblem(
                "public_access_cidrs", "only applies when endpoint_public_access is true"
            )
        for cidr in self.public_access_cidrs:
            if ipaddress.ip_network(cidr).prefixlen == 0:
                raise FieldProblem(
                    "public_access_cidrs", f"{cidr} opens the API server to the internet"
                )
        return self


class Transition(Strict):
    days: int = Field(ge=30)
    storage_class: Literal["STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR"] = (
        "INTELLIGENT_TIERING"
    )


class ArtifactStoreConfig(Strict):
    noncurrent_version_expiration_days: int = Field(default=30, ge=1, le=3650)
    abort_incomplete_multipart_days: int = Field(default=7, ge=1, le=365)
    transition: Transition | None = None
    access_logging: bool = False
    access_log_retention_days: int = Field(default=90, ge=1, le=3650)
    force_destroy: bool = False
    protect: bool = False

    @model_validator(mode="after")
    def _check(self) -> ArtifactStoreConfig:
        if self.force_destroy and self.protect:
            raise FieldProblem("force_destroy", "cannot be true on a protected store")
        return self


_IMAGE = r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$"
_CHART_VERSION = r"^v?\d+\.\d+\.\d+$"
_QUANTITY_CPU = r"^\d+(\.\d+)?m?$"
_QUANTITY_MEM = r"^\d+(Mi|Gi)$"
_HOSTNAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
_CRON = r"^(\S+\s+){4}\S+$"


def _pinned_image(value: str) -> str:
    """A container image with an explicit tag or digest, never ``latest``."""
    if not re.match(_IMAGE, value):
        raise ValueError(f"{value!r} is not an image reference with a tag or digest")
    if value.endswith(":latest"):
        raise ValueError(f"{value!r} uses 'latest': pin a version")
    return value


Image = Annotated[str, AfterValidator(_pinned_image)]
ChartVersion = Annotated[str, Field(pattern=_CHART_VERSION)]


class Resources(Strict):
    """Container requests and limits (limits are always set: no unbounded pods)."""

    cpu_request: str = Field(default="100m", pattern=_QUANTITY_CPU)
    memory_request: str = Field(default="256Mi", pattern=_QUANTITY_MEM)
    cpu_limit: str = Field(default="1", pattern=_QUANTITY_CPU)
    memory_limit: str = Field(default="1Gi", pattern=_QUANTITY_MEM)


class Autoscaling(Strict):
    """HorizontalPodAutoscaler on CPU; off means a fixed replica count."""

    enabled: bool = False
    min_replicas: int = Field(default=2, ge=1, le=50)
    max_replicas: int = Field(default=4, ge=1, le=100)
    target_cpu_percent: int = Field(default=70, ge=10, le=100)

    @model_validator(mode="after")
    def _check(self) -> Autoscaling:
        if self.max_replicas < self.min_replicas:
            raise FieldProblem("max_replicas", f"is below min_replicas ({self.min_replicas})")
        return self


class OidcConfig(Strict):
    """OpenID Connect client used by oauth2-proxy in front of the UIs.

    The client secret is a Pulumi secret under ``mlops-platform:oidcClientSecret``,
    never a value of this model.
    """

    issuer_url: str = Field(pattern=r"^https://\S+$")
    client_id: str = Field(min_length=1)
    allowed_email_domains: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    proxy_image: Image = "quay.io/oauth2-proxy/oauth2-proxy:v7.12.0"


class AuthConfig(Strict):
    """How people authenticate to MLflow and the Kubeflow Pipelines UI (never anonymous).

    ``basic-auth``: MLflow's own basic-auth app with a generated admin password; the KFP
    UI then has no Ingress (reach it with ``kubectl port-forward``, i.e. cluster RBAC).
    ``oidc``: oauth2-proxy in front of both UIs, against the configured issuer.
    """

    mode: Literal["basic-auth", "oidc"] = "basic-auth"
    oidc: OidcConfig | None = None

    @model_validator(mode="after")
    def _check(self) -> AuthConfig:
        if self.mode == "oidc" and self.oidc is None:
            raise FieldProblem("oidc", "is required when mode is 'oidc'")
        if self.mode != "oidc" and self.oidc is not None:
            raise FieldProblem("oidc", "only applies when mode is 'oidc'")
        return self


class IngressConfig(Strict):
    """Public entry point for the UIs; none unless a domain is set."""

    domain: str | None = Field(default=None, pattern=_HOSTNAME)
    class_name: str = Field(default="alb", pattern=r"^[a-z0-9][a-z0-9.-]*$")
    cluster_issuer: str = Field(default="letsencrypt", pattern=r"^[a-z0-9][a-z0-9.-]*$")


class CertManagerConfig(Strict):
    enabled: bool = True
    chart_version: ChartVersion = "v1.19.1"
    repository: str = "https://charts.jetstack.io"
    # ACME account for the ClusterIssuer; without it a self-signed issuer is created.
    acme_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    acme_server: str = "https://acme-v02.api.letsencrypt.org/directory"


RuntimeName = Literal["sklearn", "mlserver", "xgboost"]


class ServedModel(Strict):
    """A registered model version served in a team namespace (the shared template)."""

    name: str = Field(pattern=r"^[a-z]([a-z0-9-]{0,40}[a-z0-9])?$")
    team: str
    model_name: str = Field(min_length=1)
    model_version: str = Field(pattern=r"^\d+$")
    # path under the team's artifact prefix (s3://<bucket>/teams/<team>/<path>)
    path: str = Field(pattern=r"^[A-Za-z0-9._/-]+$")
    min_replicas: int = Field(default=1, ge=1, le=50)
    max_replicas: int = Field(default=1, ge=1, le=100)


class KServeConfig(Strict):
    enabled: bool = True
    version: ChartVersion = "v0.20.0"
    repository: str = "oci://ghcr.io/kserve/charts"
    deployment_mode: Literal["Standard", "Knative"] = "Standard"
    ingress: Literal["ingress", "gateway-api"] = "ingress"
    ingress_class: str = Field(default="alb", pattern=r"^[a-z0-9][a-z0-9.-]*$")
    runtimes: list[RuntimeName] = Field(
        default_factory=lambda: list[RuntimeName](["sklearn", "mlserver", "xgboost"])
    )
    sklearn_image: Image = "docker.io/kserve/sklearnserver:v0.20.0"
    xgboost_image: Image = "docker.io/kserve/xgbserver:v0.20.0"
    mlserver_image: Image = "docker.io/seldonio/mlserver:1.7.1"
    models: list[ServedModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> KServeConfig:
        if len(set(self.runtimes)) != len(self.runtimes):
            raise FieldProblem("runtimes", "lists a runtime twice")
        for field in ("sklearn_image", "xgboost_image"):
            tag = getattr(self, field).rpartition(":")[2]
            if tag.startswith("v") and tag != self.version:
                raise FieldProblem(field, f"tag {tag} does not match version {self.version}")
        return self


class MlflowConfig(Strict):
    enabled: bool = True
    # must carry psycopg and boto3 (the -full images do)
    image: Image = "ghcr.io/mlflow/mlflow:v3.17.2-full"
    namespace: str = Field(default="mlflow", pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    replicas: int = Field(default=1, ge=1, le=20)
    workers: int = Field(default=1, ge=1, le=16)
    # MLflow's background job runner starts extra processes (~2 GiB); off unless sized.
    job_execution: bool = False
    resources: Resources = Field(
        default_factory=lambda: Resources(
            cpu_request="250m", memory_request="512Mi", cpu_limit="1", memory_limit="1Gi"
        )
    )
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)
    database_name: str = Field(default="mlflow", pattern=r"^[a-z_][a-z0-9_]{0,62}$")

    @model_validator(mode="after")
    def _check(self) -> MlflowConfig:
        if self.job_execution and self.resources.memory_limit in ("256Mi", "512Mi", "1Gi"):
            raise FieldProblem(
                "resources.memory_limit", "job_execution needs at least 2Gi (it forks workers)"
            )
        return self


class FeastConfig(Strict):
    enabled: bool = True
    image: Image = "docker.io/feastdev/feature-server:0.67.0"
    namespace: str = Field(default="feast", pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    project: str = Field(default="platform", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    replicas: int = Field(default=1, ge=1, le=20)
    materialize_schedule: str = Field(default="0 * * * *", pattern=_CRON)
    # tag of the pipeline-components image (ECR) holding the feature repo `feast apply` runs
    repo_image_tag: str = Field(default="0.1.0", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    resources: Resources = Field(default_factory=Resources)

    @model_validator(mode="after")
    def _check(self) -> FeastConfig:
        if self.repo_image_tag == "latest":
            raise FieldProblem("repo_image_tag", "uses 'latest': pin a version")
        return self


class KfpConfig(Strict):
    enabled: bool = True
    version: ChartVersion = "2.5.0"
    namespace: Literal["kubeflow"] = "kubeflow"  # upstream manifests hard-code it
    database_name: str = Field(default="mlpipeline", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    metadata_database_name: str = Field(default="metadb", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    cache_database_name: str = Field(default="cachedb", pattern=r"^[a-z_][a-z0-9_]{0,62}$")


class MonitoringConfig(Strict):
    enabled: bool = True
    chart_version: ChartVersion = "79.5.0"
    pushgateway_image: Image = "quay.io/prometheus/pushgateway:v1.11.1"
    repository: str = "https://prometheus-community.github.io/helm-charts"
    namespace: str = Field(default="monitoring", pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    retention: str = Field(default="15d", pattern=r"^\d+[dhw]$")
    storage_gb: int = Field(default=50, ge=5, le=16000)
    p99_latency_seconds: float = Field(default=0.5, gt=0)
    error_rate_threshold: float = Field(default=0.05, gt=0, lt=1)
    drift_threshold: float = Field(default=0.3, gt=0, le=1)


class Components(Strict):
    """Which in-cluster services the stack deploys, and how (versions pinned here)."""

    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    feast: FeastConfig = Field(default_factory=FeastConfig)
    kfp: KfpConfig = Field(default_factory=KfpConfig)
    cert_manager: CertManagerConfig = Field(default_factory=CertManagerConfig)
    kserve: KServeConfig = Field(default_factory=KServeConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    ingress: IngressConfig = Field(default_factory=IngressConfig)

    @model_validator(mode="after")
    def _check(self) -> Components:
        if self.kserve.enabled and not self.cert_manager.enabled:
            raise FieldProblem("kserve.enabled", "requires cert_manager.enabled (webhook TLS)")
        if self.kfp.enabled and not self.mlflow.enabled:
            raise FieldProblem("kfp.enabled", "requires mlflow.enabled (pipelines log to MLflow)")
        if self.ingress.domain and not self.cert_manager.enabled:
            raise FieldProblem("ingress.domain", "requires cert_manager.enabled (TLS certificates)")
        if self.ingress.domain and self.cert_manager.acme_email is None:
            raise FieldProblem(
                "cert_manager.acme_email",
                "is required when ingress.domain is set (public certificates)",
            )
        return self


class DatabaseConfig(Strict):
    """One RDS instance. Secure defaults: protected, snapshotted, backed up."""

    engine: Literal["postgres", "mysql"]
    engine_version: str = Field(pattern=r"^\d+(\.\d+){0,2}$")
    instance_class: str = Field(default="db.t4g.medium", pattern=r"^db\.[a-z0-9-]+\.[a-z0-9]+$")
    allocated_storage_gb: int = Field(default=20, ge=20, le=65536)
    max_allocated_storage_gb: int = Field(default=100, ge=21, le=65536)
    multi_az: bool = False
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    deletion_protection: bool = True
    final_snapshot: bool = True
    performance_insights: bool = False
    protect: bool = False

    @model_validator(mode="after")
    def _check(self) -> DatabaseConfig:
        if self.max_allocated_storage_gb <= self.allocated_storage_gb:
            raise FieldProblem(
                "max_allocated_storage_gb",
                f"must exceed allocated_storage_gb ({self.allocated_storage_gb}) "
                "for storage autoscaling",
            )
        if self.protect and not self.deletion_protection:
            raise FieldProblem("deletion_protection", "must be true on a protected database")
        return self


class Databases(Strict):
    """MLflow's backend store and Kubeflow Pipelines' metadata store."""

    mlflow: DatabaseConfig = Field(
        default_factory=lambda: DatabaseConfig(engine="postgres", engine_version="16.4")
    )
    kfp: DatabaseConfig = Field(
        default_factory=lambda: DatabaseConfig(engine="mysql", engine_version="8.0.40")
    )


class RedisConfig(Strict):
    engine_version: str = Field(default="7.1", pattern=r"^\d+\.\d+$")
    node_type: str = Field(default="cache.t4g.small", pattern=r"^cache\.[a-z0-9-]+\.[a-z0-9]+$")
    num_cache_clusters: int = Field(default=2, ge=1, le=6)
    multi_az: bool = False
    snapshot_retention_days: int = Field(default=1, ge=0, le=35)

    @model_validator(mode="after")
    def _check(self) -> RedisConfig:
        if self.multi_az and self.num_cache_clusters < 2:
            raise FieldProblem(
                "num_cache_clusters", "must be at least 2 when multi_az is true (a replica)"
            )
        return self


class DynamoDbConfig(Strict):
    # Feast names its tables `<project>.<feature view>`; these are provisioned (KMS,
    # PITR) so Feast finds them and never needs dynamodb:CreateTable.
    tables: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,200}$")]] = Field(
        default_factory=lambda: ["platform.breast_cancer_features"], min_length=1
    )
    deletion_protection: bool = True


class OnlineStoreConfig(Strict):
    """Feast's online store: ElastiCache Redis or DynamoDB."""

    kind: Literal["redis", "dynamodb"] = "redis"
    redis: RedisConfig = Field(default_factory=RedisConfig)
    dynamodb: DynamoDbConfig = Field(default_factory=DynamoDbConfig)


class RegistryConfig(Strict):
    """ECR repositories for pipeline-component and serving images."""

    repositories: list[Annotated[str, Field(pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$")]] = Field(
        default_factory=lambda: ["pipeline-components", "serving"], min_length=1
    )
    untagged_expiry_days: int = Field(default=7, ge=1, le=365)
    force_delete: bool = False

    @model_validator(mode="after")
    def _check(self) -> RegistryConfig:
        if len(set(self.repositories)) != len(self.repositories):
            raise FieldProblem("repositories", "lists a repository twice")
        return self


class CiConfig(Strict):
    """GitHub Actions identity. Subjects pin the repository, optionally an environment
    and a branch; pinning both needs the repository's OIDC subject template set to
    ``["repo", "context", "ref"]`` (GitHub's customization API)."""

    github_repository: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
    )
    environment: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    branch: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_./-]+$")
    # GitHub's OIDC provider exists once per account: create it in one stack only.
    create_oidc_provider: bool = True

    @model_validator(mode="after")
    def _check(self) -> CiConfig:
        if not self.github_repository and (self.environment or self.branch):
            field = "environment" if self.environment else "branch"
            raise FieldProblem(field, "only applies when github_repository is set")
        return self


class TeamQuota(Strict):
    cpu: str = Field(default="8", pattern=r"^\d+(m)?$")
    memory: str = Field(default="32Gi", pattern=r"^\d+(Mi|Gi)$")
    gpu: int = Field(default=0, ge=0)


class TeamConfig(Strict):
    name: str
    quota: TeamQuota = Field(default_factory=TeamQuota)
    # the service account the team's pipelines and services run as (IRSA subject)
    service_account: str = Field(
        default="pipeline-runner", pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
    )

    @property
    def namespace(self) -> str:
        return f"team-{self.name}"

    @model_validator(mode="after")
    def _check(self) -> TeamConfig:
        if not _DNS_LABEL.match(self.name):
            raise FieldProblem("name", f"{self.name!r} is not a DNS label (a-z, 0-9, '-')")
        return self


def _tags(value: dict[str, str]) -> dict[str, str]:
    missing = [t for t in REQUIRED_TAGS if not value.get(t)]
    if missing:
        raise ValueError(f"missing required tag(s): {', '.join(missing)}")
    if ENVIRONMENT_TAG in value:
        raise ValueError(f"'{ENVIRONMENT_TAG}' is set from the stack name; remove it")
    return value


class PlatformConfig(Strict):
    """Everything a stack may set. Secure defaults; environments only change values."""

    region: str
    name_prefix: str
    tags: Annotated[dict[str, str], AfterValidator(_tags)]
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    artifact_store: ArtifactStoreConfig = Field(default_factory=ArtifactStoreConfig)
    components: Components = Field(default_factory=Components)
    databases: Databases = Field(default_factory=Databases)
    online_store: OnlineStoreConfig = Field(default_factory=OnlineStoreConfig)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    ci: CiConfig = Field(default_factory=CiConfig)
    teams: list[TeamConfig] = Field(default_factory=list)

    @property
    def zone_count(self) -> int:
        """Zones the private subnets span (created, or the ones brought in)."""
        if self.cluster.mode == "existing":
            return len(self.cluster.private_subnet_ids)
        return self.network.az_count

    @model_validator(mode="after")
    def _check(self) -> PlatformConfig:
        if not _REGION.match(self.region):
            raise FieldProblem("region", f"{self.region!r} is not an AWS region name")
        if not _PREFIX.match(self.name_prefix):
            raise FieldProblem(
                "name_prefix",
                f"{self.name_prefix!r} must be 3-20 chars of a-z, 0-9 and '-', "
                "starting with a letter",
            )
        names = [t.name for t in self.teams]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise FieldProblem("teams", f"team name(s) used twice: {', '.join(dupes)}")
        for i, model in enumerate(self.components.kserve.models):
            if model.team not in names:
                raise FieldProblem(
                    f"components.kserve.models.{i}.team", f"{model.team!r} is not a team"
                )
        # Multi-AZ first: with one zone it is the root mistake, not the EKS minimum.
        multi_az = [
            (f"databases.{name}.multi_az", getattr(self.databases, name).multi_az)
            for name in ("mlflow", "kfp")
        ]
        if self.online_store.kind == "redis":
            multi_az.append(("online_store.redis.multi_az", self.online_store.redis.multi_az))
        for field, on in multi_az:
            if on and self.zone_count < 2:
                raise FieldProblem(
                    field, f"needs at least 2 availability zones, the network has {self.zone_count}"
                )
        if self.cluster.mode == "create" and self.network.az_count < 2:
            raise FieldProblem("network.az_count", "EKS needs subnets in at least 2 zones")
        if self.online_store.kind == "dynamodb" and self.components.feast.enabled:
            project = self.components.feast.project
            for i, table in enumerate(self.online_store.dynamodb.tables):
                if not table.startswith(f"{project}.") or table == f"{project}.":
                    raise FieldProblem(
                        f"online_store.dynamodb.tables.{i}",
                        f"{table!r} is not a table Feast uses: Feast project {project!r} "
                        f"reads and writes '{project}.<feature view>'",
                    )
        if self.cluster.mode == "existing" and self.network != NetworkConfig():
            raise FieldProblem("network", "is not used with a bring-your-own cluster; remove it")
        return self


def _format_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    path = ["platform", *(str(p) for p in err["loc"])]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, FieldProblem):
        path.append(cause.field)
        reason = cause.reason
    elif err["type"] == "extra_forbidden":
        reason = "unknown key"
    elif err["type"] == "missing":
        reason = "is required"
    else:
        reason = str(err["msg"]).removeprefix("Value error, ")
    return f"{'.'.join(path)}: {reason}"


def parse_config(raw: Any) -> PlatformConfig:
    """Validate a raw config object; raise ConfigError with ``field.path: reason``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"platform: expected a mapping, got {type(raw).__name__}")
    try:
        return PlatformConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc)) from None


def load_stack_config() -> PlatformConfig:
    """Read and validate ``mlops-platform:platform`` from the running stack's config."""
    import pulumi

    raw = pulumi.Config("mlops-platform").get_object("platform")
    if raw is None:
        raise ConfigError(f"{CONFIG_KEY}: is required")
    return parse_config(raw)
