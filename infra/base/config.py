"""Building blocks of the stack's config model that several slices share.

Every section model is `Strict` (unknown keys are errors, values frozen); a cross-field
mistake raises `FieldProblem` so the error names the exact sub-field
(``platform.cluster.public_access_cidrs: ...``). No Pulumi here: validating a config
never imports a provider SDK.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from infra.base import units
from infra.base.schedule import cron_problem
from policies.rules.images import PUSHED_TAG, image_problem


class ConfigError(ValueError):
    """A configuration mistake, already formatted as ``path: reason``."""


class FieldProblem(ValueError):
    """Raised by model validators so the error names the exact sub-field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class Strict(BaseModel):
    # no inf/nan: a threshold of .inf or .nan in YAML is a mistake, never a bound
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR block ({exc})") from None
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]

IMAGE_PATTERN = r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$"
CHART_VERSION_PATTERN = r"^v?\d+\.\d+\.\d+$"
CPU_PATTERN = r"^\d+(\.\d+)?m?$"
MEMORY_PATTERN = r"^\d+(Mi|Gi)$"
HOSTNAME_PATTERN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
# a tag the image workflow pushes for the platform's own images (the commit SHA)
COMMIT_TAG_PATTERN = f"^{PUSHED_TAG.pattern}$"
DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
# a DNS label (RFC 1123): what Kubernetes requires of a namespace, at most 63 characters
K8S_NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
CLASS_NAME_PATTERN = r"^[a-z0-9][a-z0-9.-]*$"


def _pinned_image(value: str) -> str:
    """A container image the project's image rule admits (policies/rules/images.py)."""
    if not re.match(IMAGE_PATTERN, value):
        raise ValueError(f"{value!r} is not an image reference with a tag or digest")
    if problem := image_problem(value):
        raise ValueError(problem)
    return value


Image = Annotated[str, AfterValidator(_pinned_image)]
ChartVersion = Annotated[str, Field(pattern=CHART_VERSION_PATTERN)]


# CloudWatch Logs' PutRetentionPolicy accepts only these (botocore logs: `Days`)
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"{value} is not a CloudWatch Logs retention: CloudWatch Logs accepts one of "
            + ", ".join(map(str, LOG_RETENTION_DAYS))
        )
    return value


LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]


def _prometheus_duration(value: str) -> str:
    units.prometheus_duration_nanos(value)  # its ValueError names what is wrong
    return value


PrometheusDuration = Annotated[str, AfterValidator(_prometheus_duration)]


def _cron(value: str) -> str:
    if problem := cron_problem(value):
        raise ValueError(f"{value!r} {problem}")
    return value


CronSchedule = Annotated[str, AfterValidator(_cron)]


class Resources(Strict):
    """Container requests and limits (limits are always set: no unbounded pods)."""

    cpu_request: str = Field(default="100m", pattern=CPU_PATTERN)
    memory_request: str = Field(default="256Mi", pattern=MEMORY_PATTERN)
    cpu_limit: str = Field(default="1", pattern=CPU_PATTERN)
    memory_limit: str = Field(default="1Gi", pattern=MEMORY_PATTERN)

    @model_validator(mode="after")
    def _check(self) -> Resources:
        # Kubernetes refuses a request above its limit; a limit of 0 leaves no room to run
        for kind, parse in (("cpu", units.cpu_millis), ("memory", units.memory_bytes)):
            request, limit = getattr(self, f"{kind}_request"), getattr(self, f"{kind}_limit")
            for field in (f"{kind}_request", f"{kind}_limit"):
                try:
                    parse(getattr(self, field))
                except ValueError as exc:
                    raise FieldProblem(field, str(exc)) from None
            if parse(limit) == 0:
                raise FieldProblem(f"{kind}_limit", f"{limit!r} is zero: the container cannot run")
            if parse(request) > parse(limit):
                raise FieldProblem(
                    f"{kind}_request",
                    f"{request} is above {kind}_limit {limit}, which Kubernetes refuses",
                )
        return self

    def render(self) -> dict[str, dict[str, str]]:
        """The container's ``resources`` block."""
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


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

    domain: str | None = Field(default=None, pattern=HOSTNAME_PATTERN, max_length=253)
    class_name: str = Field(default="alb", pattern=CLASS_NAME_PATTERN)
    # unset: named for what cert-manager's issuer is (Components.cluster_issuer)
    cluster_issuer: str | None = Field(default=None, pattern=CLASS_NAME_PATTERN)
