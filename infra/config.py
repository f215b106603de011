"""The one validated model of a stack's configuration (`mlops-platform:platform`).

Environments differ only in the values of this model. Each section is declared once, in
its slice (``infra/foundation/<piece>/config.py``, ``infra/services/<service>/config.py``);
this module assembles them and checks what spans several. Every mistake is reported with
its field path (``platform.cluster.oidc_provider_arn: ...``) so that a platform engineer
can fix the YAML without reading the code.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, model_validator

from infra.base.config import (
    AuthConfig,
    ConfigError,
    FieldProblem,
    IngressConfig,
    Strict,
)
from infra.foundation.cert_manager.config import CertManagerConfig
from infra.foundation.ci.config import CiConfig
from infra.foundation.cluster.config import ClusterConfig
from infra.foundation.databases.config import Databases
from infra.foundation.deployer.config import DeployerConfig
from infra.foundation.network.config import NetworkConfig
from infra.foundation.online_store.config import OnlineStoreConfig
from infra.foundation.registry.config import RegistryConfig
from infra.services.artifact_store.config import ArtifactStoreConfig
from infra.services.feast.config import FeastConfig
from infra.services.kfp.config import KfpConfig
from infra.services.kserve.config import KServeConfig
from infra.services.mlflow.config import MlflowConfig
from infra.services.monitoring.config import MonitoringConfig
from infra.services.tenancy.config import TeamConfig

__all__ = ["CONFIG_KEY", "ConfigError", "PlatformConfig", "load_stack_config", "parse_config"]

CONFIG_KEY = "mlops-platform:platform"
REQUIRED_TAGS = ("owner", "cost-center", "data-classification")
ENVIRONMENT_TAG = "environment"

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")


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
        if self.kfp.enabled and not self.cert_manager.enabled:
            raise FieldProblem(
                "kfp.enabled", "requires cert_manager.enabled (the cache webhook's certificate)"
            )
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
    deployer: DeployerConfig = Field(default_factory=DeployerConfig)
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
        if self.deployer.runner == "codebuild" and self.cluster.mode != "create":
            raise FieldProblem(
                "deployer.runner",
                "'codebuild' needs cluster.mode 'create' (the runner is admitted by the security "
                "group of a cluster the stack creates); a brought-in cluster's API path is its "
                "owner's: set runner to 'none'",
            )
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
