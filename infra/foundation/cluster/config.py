"""The ``cluster`` section: an EKS cluster the stack creates, or one brought in."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra.base import instances, versions
from infra.base.config import Cidr, FieldProblem, LogRetentionDays, Strict
from policies.rules.cidrs import open_problem

LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
# EKS's default quota of nodes per managed node group (docs.aws.amazon.com/eks/latest/
# userguide/service-quotas.html); a larger group needs a quota increase first.
MAX_NODES = 450
# the node groups' AMI types are AL2023_x86_64_STANDARD and AL2023_x86_64_NVIDIA
NODE_ARCHITECTURE = "x86_64"
_OIDC_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$")


class NodeGroupConfig(Strict):
    """One managed node group.

    Attributes:
        enabled: Create the group.
        instance_types: EC2 instance types (several spread spot risk).
        capacity_type: ``ON_DEMAND`` or ``SPOT``.
        min_size / desired_size / max_size: Node counts (desired is the size at creation).
        disk_size_gb: Root volume size (gp3, encrypted).
    """

    enabled: bool = True
    instance_types: list[str] = Field(default_factory=lambda: ["m6i.large"], min_length=1)
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = Field(default=1, ge=0, le=MAX_NODES)
    desired_size: int = Field(default=2, ge=0, le=MAX_NODES)
    max_size: int = Field(default=3, ge=0, le=MAX_NODES)
    disk_size_gb: int = Field(default=50, ge=20, le=2000)

    @model_validator(mode="after")
    def _check(self) -> NodeGroupConfig:
        for i, itype in enumerate(self.instance_types):
            if problem := instances.ec2_problem(itype):
                raise FieldProblem(f"instance_types.{i}", problem)
            if instances.architecture(itype) != NODE_ARCHITECTURE:
                raise FieldProblem(
                    f"instance_types.{i}",
                    f"{itype} is an {instances.architecture(itype)} type; the node groups run "
                    f"{NODE_ARCHITECTURE} AMIs (AL2023_x86_64_*), which EKS refuses with it",
                )
        if len(set(self.instance_types)) != len(self.instance_types):
            raise FieldProblem("instance_types", "lists an instance type twice")
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
    """The system group (on-demand, always there), the workloads group and a GPU group
    (NVIDIA AMI, ``nvidia.com/gpu`` NoSchedule taint)."""

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

    def enabled_groups(self) -> list[tuple[str, NodeGroupConfig]]:
        """(name, group) of each enabled group, system first; the name is also the
        ``node-group`` label."""
        groups = (("system", self.system), ("workloads", self.workloads), ("gpu", self.gpu))
        return [(name, group) for name, group in groups if group.enabled]


class ClusterConfig(Strict):
    """The Kubernetes cluster.

    ``mode: create`` builds EKS (private API endpoint unless ``endpoint_public_access``
    with non-open ``public_access_cidrs``); ``mode: existing`` brings one in: how to reach
    it (``kubeconfig``), its IRSA issuer, and where its nodes live (the databases and
    the cache go into that VPC and admit only that security group).
    """

    mode: Literal["create", "existing"] = "create"
    version: str = Field(default="1.35", pattern=r"^1\.\d{2}$")
    endpoint_public_access: bool = False
    # EKS takes at most 40 public access CIDRs (a quota it does not raise)
    public_access_cidrs: list[Cidr] = Field(default_factory=list, max_length=40)
    log_types: list[LogType] = Field(
        default_factory=lambda: list[LogType](["api", "audit", "authenticator"])
    )
    node_groups: NodeGroups = Field(default_factory=NodeGroups)
    log_retention_days: LogRetentionDays = 90
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
        if self.mode == "create" and (
            problem := versions.eks_problem(self.version, versions.plan_date())
        ):
            raise FieldProblem("version", problem)
        if self.mode == "existing":
            if "version" in self.model_fields_set:
                raise FieldProblem("version", "only applies when mode is 'create'")
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
        # the pack's notion of "open" (address coverage), so config and rule agree
        if problem := open_problem(self.public_access_cidrs):
            raise FieldProblem(
                "public_access_cidrs", f"open the API server to the internet ({problem})"
            )
        return self
