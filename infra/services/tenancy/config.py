"""The ``teams`` section: the data-science teams sharing the platform."""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from infra.base.config import DNS_LABEL, K8S_NAME_PATTERN, FieldProblem, Strict
from infra.base.units import INT64_MAX, cpu_millis, memory_bytes
from mlops_runtime import teams

MLFLOW_USER = re.compile(r"^(?!admin$)[a-z0-9][a-z0-9.-]{1,63}$")
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")

# The team namespace's LimitRange gives a container without limits these (the
# component's `TeamTenancyArgs.default_limits`); Kubernetes refuses a LimitRange whose
# default is above its max, and the max is the quota.
CONTAINER_DEFAULT_LIMITS = {"cpu": "500m", "memory": "512Mi"}


class TeamQuota(Strict):
    """The team namespace's ResourceQuota (requests and limits alike), also the largest
    container its LimitRange admits."""

    cpu: str = Field(default="8", pattern=r"^\d+(m)?$")
    memory: str = Field(default="32Gi", pattern=r"^\d+(Mi|Gi)$")
    gpu: int = Field(default=0, ge=0, le=INT64_MAX)

    @model_validator(mode="after")
    def _check(self) -> TeamQuota:
        for kind, parse in (("cpu", cpu_millis), ("memory", memory_bytes)):
            quota, default = getattr(self, kind), CONTAINER_DEFAULT_LIMITS[kind]
            try:
                below = parse(quota) < parse(default)
            except ValueError as exc:
                raise FieldProblem(kind, str(exc)) from None
            if below:
                raise FieldProblem(
                    kind,
                    f"{quota} is below the default container limit {default} of the team's "
                    "LimitRange, which Kubernetes refuses (its max is the quota)",
                )
        return self


class TeamConfig(Strict):
    """One team: namespace ``team-<name>``, prefix ``teams/<name>/`` of the artifact store.

    Attributes:
        name: Team name (a DNS label).
        quota: Its namespace's quota.
        service_account: The service account its pipelines and services run as (the
            subject of its read-write IRSA role). Its model servers run as another one,
            ``model-server`` (`serving_account`), whose role only reads its published models.
        members: IAM roles of the team's people (e.g. their IAM Identity Center role). Each
            gets an EKS access entry in the team's Kubernetes group (``team-<name>``), which
            the team's RoleBinding grants ``team-member`` in its namespace only; no EKS
            access policy, so nothing outside RBAC. Empty: nobody signs in as the team.
        mlflow_users: MLflow accounts of the team's people (basic-auth): each gets a
            generated password (stack output ``mlflow_team_passwords``, a secret) and the
            team's role in its MLflow workspace, nothing else. The team's pipelines log as
            ``<name>-pipelines``, made for every team.
    """

    name: str
    quota: TeamQuota = Field(default_factory=TeamQuota)
    service_account: str = Field(default=teams.SERVICE_ACCOUNT, pattern=K8S_NAME_PATTERN)
    members: list[str] = Field(default_factory=list)
    mlflow_users: list[str] = Field(default_factory=list)

    @property
    def namespace(self) -> str:
        return teams.namespace(self.name)

    @property
    def group(self) -> str:
        """The Kubernetes group of the team's people (their access entries, its RoleBinding)."""
        return f"team-{self.name}"

    @property
    def prefix(self) -> str:
        """The team's prefix of the artifact store."""
        return teams.prefix(self.name)

    @property
    def serving_account(self) -> str:
        """The service account the team's model servers run as (read-only on its models)."""
        return teams.SERVING_ACCOUNT

    @property
    def models_prefix(self) -> str:
        """Where the team's models are published (all its serving account reads)."""
        return teams.models_prefix(self.name)

    @model_validator(mode="after")
    def _check(self) -> TeamConfig:
        if not DNS_LABEL.match(self.name):
            raise FieldProblem("name", f"{self.name!r} is not a DNS label (a-z, 0-9, '-')")
        if self.service_account == teams.SERVING_ACCOUNT:
            raise FieldProblem(
                "service_account",
                f"{self.service_account!r} is the team's serving account (read-only on its "
                "models): name the pipelines' account otherwise",
            )
        for i, member in enumerate(self.members):
            if not _ROLE_ARN.match(member):
                raise FieldProblem(
                    f"members.{i}",
                    f"{member!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>): "
                    "EKS access entries take roles for people (users carry long-lived keys)",
                )
        if len(set(self.members)) != len(self.members):
            raise FieldProblem("members", "names a role twice (EKS holds one entry per role)")
        for i, user in enumerate(self.mlflow_users):
            if not MLFLOW_USER.match(user) or user == teams.pipelines_user(self.name):
                raise FieldProblem(
                    f"mlflow_users.{i}",
                    f"{user!r}: use 2-64 of a-z, 0-9, '.', '-', not 'admin' nor the team's "
                    "pipeline user",
                )
        if len(set(self.mlflow_users)) != len(self.mlflow_users):
            raise FieldProblem("mlflow_users", "names a user twice")
        return self

    @property
    def mlflow_accounts(self) -> list[str]:
        """Every MLflow account in the team's workspace: its pipelines, then its people."""
        return [teams.pipelines_user(self.name), *self.mlflow_users]
