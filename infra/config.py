"""The one validated model of a stack's configuration (`mlops-platform:platform`).

Environments differ only in the values of this model. Each section is declared once, in
its slice (``infra/foundation/<piece>/config.py``, ``infra/services/<service>/config.py``);
this module assembles them and checks what spans several. Every mistake is reported with
its field path (``platform.cluster.oidc_provider_arn: ...``) so that a platform engineer
can fix the YAML without reading the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, ValidationInfo, model_validator

from infra.base import naming, regions
from infra.base.config import (
    AuthConfig,
    ConfigError,
    FieldProblem,
    IngressConfig,
    Strict,
)
from infra.foundation.cert_manager.config import CertManagerConfig
from infra.foundation.ci.config import CiConfig
from infra.foundation.ci.permissions import DEPLOY_POLICY_PARTS
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
# Tags the platform itself sets on the resources it tags (infra/platform.py, the network,
# the teams, the log buckets): a config tag of the same key (IAM compares keys without
# case) would be overwritten on some resources and win on others. `kubernetes.io/` keys
# steer EKS and the load balancer controller (which subnets take load balancers).
PLATFORM_TAGS = (ENVIRONMENT_TAG, "managed-by", "Name", "team", "purpose")
PLATFORM_TAG_PREFIXES = ("kubernetes.io/",)
# The most tags the platform adds to one resource (Name, environment, managed-by and two
# kubernetes.io/ tags on a subnet); AWS allows 50 per resource.
PLATFORM_TAGS_PER_RESOURCE = 5
MAX_CONFIG_TAGS = naming.TAGS_PER_RESOURCE - PLATFORM_TAGS_PER_RESOURCE

_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
# AWS account ids are 12 digits: derived names hold one, checked with this stand-in
ACCOUNT = "{account}"
_ACCOUNT_DIGITS = "0" * 12


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

    @property
    def cluster_issuer(self) -> str:
        """The ClusterIssuer's name: ``components.ingress.cluster_issuer``, or, unset, what
        it is: ``acme`` with an ACME account (``cert_manager.acme_email``), else
        ``self-signed`` (certificates no browser trusts: in-cluster TLS only)."""
        if self.ingress.cluster_issuer:
            return self.ingress.cluster_issuer
        return "acme" if self.cert_manager.acme_email else "self-signed"

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


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _tags(value: dict[str, str]) -> dict[str, str]:
    missing = [t for t in REQUIRED_TAGS if not value.get(t)]
    if missing:
        raise ValueError(f"missing required tag(s): {', '.join(missing)}")
    if len(value) > MAX_CONFIG_TAGS:
        raise ValueError(
            f"{len(value)} tags; AWS allows {naming.TAGS_PER_RESOURCE} per resource and the "
            f"platform adds up to {PLATFORM_TAGS_PER_RESOURCE}: at most {MAX_CONFIG_TAGS}"
        )
    seen: dict[str, str] = {}
    for key, text in value.items():
        if key.lower() == ENVIRONMENT_TAG:
            raise ValueError(f"'{ENVIRONMENT_TAG}' is set from the stack name; remove it")
        if key.lower() in (t.lower() for t in PLATFORM_TAGS) or key.lower().startswith(
            PLATFORM_TAG_PREFIXES
        ):
            raise ValueError(f"{_shown(key)} is a tag the platform sets itself; remove it")
        if problem := naming.tag_key_problem(key):
            raise ValueError(f"tag key {_shown(key)} {problem}")
        if (other := seen.setdefault(key.lower(), key)) != key:
            raise ValueError(
                f"tag keys {other!r} and {key!r} differ only in case, which IAM refuses"
            )
        if problem := naming.tag_value_problem(text):
            raise FieldProblem(key, f"tag value {_shown(text)} {problem}")
    return value


@dataclass(frozen=True)
class DerivedName:
    """A name the stack gives an AWS resource, and the config field that shapes it.

    ``name`` holds ``{account}`` where the deploying account's id goes.
    """

    field: str
    kind: str
    name: str

    def problem(self) -> str | None:
        return naming.name_problem(self.kind, self.name.replace(ACCOUNT, _ACCOUNT_DIGITS))

    @property
    def shown(self) -> str:
        return self.name.replace(ACCOUNT, "<account-id>")


class PlatformConfig(Strict):
    """Everything a stack may set. Secure defaults; environments only change values."""

    # the AWS account the stack deploys to: the provider refuses any other
    # (allowed_account_ids), and it tells stacks of one account apart (ci.create_oidc_provider)
    account_id: str | None = Field(default=None, pattern=r"^[0-9]{12}$")
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
    # Teams removed from ``teams`` whose MLflow workspace (experiments, runs, models) is
    # deleted as well. Removing a team alone removes its access and workloads and keeps
    # its data: its workspace, and its prefix of the artifact store, which is never purged
    # by the platform (docs/data-scientists.md).
    purged_teams: list[str] = Field(default_factory=list)

    @property
    def zone_count(self) -> int:
        """Zones the private subnets span (created, or the ones brought in)."""
        if self.cluster.mode == "existing":
            return len(self.cluster.private_subnet_ids)
        return self.network.az_count

    def derived_names(self, stack: str) -> list[DerivedName]:
        """Every name the stack ``stack`` gives an AWS resource, as the slices build it
        (``<name_prefix>-<stack>`` first); tests/infra/test_config_names.py holds this list
        to the names in the environments' plans."""
        base, cc, comp = f"{self.name_prefix}-{stack}", self.cluster, self.components
        names: list[DerivedName] = []

        def add(kind: str, name: str, field: str = "name_prefix") -> None:
            names.append(DerivedName(field, kind, name))

        buckets = [f"{base}-artifacts-{ACCOUNT}"]
        if comp.feast.enabled:
            buckets.append(f"{base}-feast-registry-{ACCOUNT}")
        for bucket in buckets:
            add("s3-bucket", bucket)
            if self.artifact_store.access_logging:
                add("s3-bucket", f"{bucket}-logs")
            add("kms-alias", f"alias/{bucket}")
        if self.ci.github_repository:
            add("iam-role", f"{base}-github-actions")
        runner = self.deployer.resolved_runner(cc.mode)
        if self.ci.github_repository or runner == "codebuild":
            # infra/foundation/ci/boundary.py, permissions.py
            add("iam-policy", f"{base}-boundary")
            add("iam-policy", f"{base}-deployer-boundary")
            for part in DEPLOY_POLICY_PARTS:
                add("iam-policy", f"{base}-deploy-{part}")
        if runner == "codebuild":
            # infra/foundation/deployer: the project, its role, security group, log group, key
            deployer = f"{base}-deployer"
            add("codebuild-project", deployer)
            add("iam-role", deployer)
            add("security-group", deployer)
            add("log-group", f"/aws/codebuild/{deployer}")
            add("kms-alias", f"alias/{deployer}")
        if cc.mode == "create":
            add("eks-cluster", base)
            add("log-group", f"/aws/eks/{base}/cluster")
            add("kms-alias", f"alias/{base}-eks")
            for role in (
                "cluster",
                "node",
                "vpc-cni",
                "ebs-csi",
                "lb-controller",
                "cluster-autoscaler",
            ):
                add("iam-role", f"{base}-{role}")
            for group, _ in cc.node_groups.enabled_groups():
                add("launch-template", f"{base}-{group}")
            if self.network.flow_logs:
                add("iam-role", f"{base}-vpc-flow-logs")
                add("log-group", f"/aws/vpc/{base}/flow-logs")
        add("kms-alias", f"alias/{base}-ecr")
        for i, repository in enumerate(self.registry.repositories):
            add("ecr-repository", f"{base}/{repository}", f"registry.repositories.{i}")
        databases = [s for s in ("mlflow", "kfp") if getattr(comp, s).enabled]
        if comp.mlflow.enabled:
            add("iam-role", f"{base}-mlflow")
        if comp.feast.enabled:
            add("iam-role", f"{base}-feast")
            add("kms-alias", f"alias/{base}-feast")
            if self.online_store.kind == "redis":
                add("elasticache-replication-group", f"{base}-feast")
                add("elasticache-subnet-group", f"{base}-feast")
                add("security-group", f"{base}-feast-redis")
                add("secret", f"{base}/feast/redis-auth")
        for service in databases:
            add("rds-instance", f"{base}-{service}")
            add("rds-parameter-group", f"{base}-{service}")
            add("rds-subnet-group", f"{base}-{service}")
            if getattr(self.databases, service).final_snapshot:
                add("rds-snapshot", f"{base}-{service}-final")
            add("security-group", f"{base}-{service}-db")
            add("kms-alias", f"alias/{base}-{service}-db")
            add("secret", f"{base}/{service}/db-master")
        if comp.kfp.enabled:
            for role in ("kfp", "kfp-ui", "kfp-runner"):
                add("iam-role", f"{base}-{role}")
        for i, team in enumerate(self.teams):
            add("iam-role", f"{base}-team-{team.name}", f"teams.{i}.name")
            add("iam-role", f"{base}-team-{team.name}-serving", f"teams.{i}.name")
            if comp.kfp.enabled:
                add("iam-role", f"{base}-kfp-runner-{team.name}", f"teams.{i}.name")
        return names

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> PlatformConfig:
        if problem := regions.region_problem(self.region):
            raise FieldProblem("region", problem)
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
        for i, purged in enumerate(self.purged_teams):
            if purged in names:
                raise FieldProblem(
                    f"purged_teams.{i}", f"{purged!r} is still a team: remove it from teams first"
                )
        accounts: dict[str, str] = {}
        for i, team in enumerate(self.teams):
            for user in team.mlflow_accounts:
                if user in accounts:
                    raise FieldProblem(
                        f"teams.{i}.mlflow_users",
                        f"{user!r} is already an account of team {accounts[user]!r}: "
                        "an MLflow account belongs to one team",
                    )
                accounts[user] = team.name
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
        # the names the stack derives, once it is known (always, under Pulumi)
        stack = (info.context or {}).get("stack")
        for derived in self.derived_names(stack) if isinstance(stack, str) else ():
            if problem := derived.problem():
                raise FieldProblem(
                    derived.field,
                    f"with the stack {stack!r}, it makes the {naming.describe(derived.kind)} "
                    f"{derived.shown!r}, which {problem}",
                )
        if self.ci.create_oidc_provider and self.account_id is None:
            raise FieldProblem(
                "ci.create_oidc_provider",
                "needs account_id: GitHub's OIDC provider exists once per account, and without "
                "the account no check can tell whether another stack creates it too",
            )
        runner = self.deployer.resolved_runner(self.cluster.mode)
        if self.ci.github_repository and runner == "codebuild":
            # the deploy job holds its session while the build queues and runs
            wait = (self.deployer.queued_timeout_minutes + self.deployer.timeout_minutes) * 60
            if self.ci.max_session_duration < wait:
                raise FieldProblem(
                    "ci.max_session_duration",
                    f"{self.ci.max_session_duration} s is shorter than the runner's build may "
                    f"queue and run ({wait} s: deployer.queued_timeout_minutes + "
                    "timeout_minutes): the deploy job's credentials would expire first",
                )
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


def parse_config(raw: Any, stack: str | None = None) -> PlatformConfig:
    """Validate a raw config object; raise ConfigError with ``field.path: reason``.

    With ``stack``, the names the stack derives from the config (``<name_prefix>-<stack>``
    ...) are checked against AWS's naming rules too.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"platform: expected a mapping, got {type(raw).__name__}")
    try:
        return PlatformConfig.model_validate(raw, context={"stack": stack})
    except ValidationError as exc:
        raise ConfigError(_format_error(exc)) from None


def load_stack_config() -> PlatformConfig:
    """Read and validate ``mlops-platform:platform`` from the running stack's config."""
    import pulumi

    raw = pulumi.Config("mlops-platform").get_object("platform")
    if raw is None:
        raise ConfigError(f"{CONFIG_KEY}: is required")
    return parse_config(raw, stack=pulumi.get_stack())
