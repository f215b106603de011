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
    az_count: int = Field(default=2, ge=1, le=6)
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
    # bring-your-own cluster
    kubeconfig: str | None = None
    oidc_provider_arn: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ClusterConfig:
        if self.mode == "existing":
            if not self.kubeconfig:
                raise FieldProblem("kubeconfig", "is required when mode is 'existing'")
            if not self.oidc_provider_arn:
                raise FieldProblem("oidc_provider_arn", "is required when mode is 'existing'")
            if self.endpoint_public_access:
                raise FieldProblem("endpoint_public_access", "only applies when mode is 'create'")
        elif self.kubeconfig or self.oidc_provider_arn:
            field = "kubeconfig" if self.kubeconfig else "oidc_provider_arn"
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


class Toggle(Strict):
    enabled: bool = True


class Components(Strict):
    """Which in-cluster services the stack deploys."""

    mlflow: Toggle = Field(default_factory=Toggle)
    feast: Toggle = Field(default_factory=Toggle)
    kfp: Toggle = Field(default_factory=Toggle)
    cert_manager: Toggle = Field(default_factory=Toggle)
    kserve: Toggle = Field(default_factory=Toggle)
    monitoring: Toggle = Field(default_factory=Toggle)

    @model_validator(mode="after")
    def _check(self) -> Components:
        if self.kserve.enabled and not self.cert_manager.enabled:
            raise FieldProblem("kserve.enabled", "requires cert_manager.enabled (webhook TLS)")
        if self.kfp.enabled and not self.mlflow.enabled:
            raise FieldProblem("kfp.enabled", "requires mlflow.enabled (pipelines log to MLflow)")
        return self


class TeamQuota(Strict):
    cpu: str = Field(default="8", pattern=r"^\d+(m)?$")
    memory: str = Field(default="32Gi", pattern=r"^\d+(Mi|Gi)$")
    gpu: int = Field(default=0, ge=0)


class TeamConfig(Strict):
    name: str
    quota: TeamQuota = Field(default_factory=TeamQuota)

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
    teams: list[TeamConfig] = Field(default_factory=list)

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
        if self.cluster.mode == "create" and self.network.az_count < 2:
            raise FieldProblem("network.az_count", "EKS needs subnets in at least 2 zones")
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
