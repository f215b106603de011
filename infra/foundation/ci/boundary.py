"""PermissionBoundaries: the two policies that cap every IAM role the stack creates.

``<base>-boundary`` caps the workload roles (IRSA, the cluster's and nodes' roles, the
flow-log role: every role but the deployer's), ``<base>-deployer-boundary`` the roles
that deploy (the GitHub Actions role and the deploy runner's). Both live under the IAM
path ``/boundary/``: the deploy policy may not change anything there, and the pack reads
a policy there as a cap only while roles name it as their boundary and nothing attaches
it as a grant.

A boundary is only worth something if every role carries one, including the roles that
slices build without knowing about boundaries: `attach_to_every_role` registers a stack
transformation that gives every ``aws:iam/role:Role`` created after it the workload
boundary (unless the role names one of the two itself) and makes it depend on that
policy, so AWS never sees a role whose boundary does not exist yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from infra.foundation.ci.permissions import (
    BOUNDARY_PATH,
    DeployScope,
    deployer_boundary,
    workload_boundary,
)

if TYPE_CHECKING:
    from infra.config import PlatformConfig

ROLE = "aws:iam/role:Role"


def has_deployer_identity(config: PlatformConfig) -> bool:
    """A stack with a CI identity or a deploy runner carries boundaries on every role."""
    runner = config.deployer.resolved_runner(config.cluster.mode)
    return bool(config.ci.github_repository) or runner == "codebuild"


@dataclass(frozen=True, kw_only=True)
class PermissionBoundariesArgs:
    """Inputs of PermissionBoundaries.

    Attributes:
        scope: The stack's names (base, account, region, environment).
        tags: Tags of both policies.
    """

    scope: DeployScope
    tags: Mapping[str, str] = field(default_factory=dict)


class PermissionBoundaries(pulumi.ComponentResource):
    """The workload and deployer boundary policies.

    Outputs:
        workload_arn / deployer_arn: Their ARNs (known before deployment).
    """

    workload: aws.iam.Policy
    deployer: aws.iam.Policy

    def __init__(
        self, name: str, args: PermissionBoundariesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:ci:PermissionBoundaries", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.scope
        self._workload_arn = s.workload_boundary_arn
        self._arns = {s.workload_boundary_arn: "workload", s.deployer_boundary_arn: "deployer"}
        self.workload = aws.iam.Policy(
            f"{name}-workload",
            name=f"{s.base}-boundary",
            path=BOUNDARY_PATH,
            description=f"Permissions boundary of every workload role of {s.base}",
            policy=workload_boundary(s),
            tags=dict(args.tags),
            opts=child,
        )
        self.deployer = aws.iam.Policy(
            f"{name}-deployer",
            name=f"{s.base}-deployer-boundary",
            path=BOUNDARY_PATH,
            description=f"Permissions boundary of the roles that deploy {s.base}",
            policy=deployer_boundary(s),
            tags=dict(args.tags),
            opts=child,
        )
        self.register_outputs(
            {"workload_arn": self.workload.arn, "deployer_arn": self.deployer.arn}
        )

    def _bound(
        self, args: pulumi.ResourceTransformationArgs
    ) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != ROLE:
            return None
        props = dict(args.props)
        current = props.get("permissions_boundary")
        if current is None:
            # the ARN as a known string (IAM's ARN of a policy is its path and name), so a
            # preview and the pack see it; the dependency orders the role after its policy
            current = self._workload_arn
            props["permissions_boundary"] = current
        if not isinstance(current, str) or current not in self._arns:
            return None  # an Output (already depends on its policy) or another boundary
        policy = self.workload if self._arns[current] == "workload" else self.deployer
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(depends_on=[policy]))
        return pulumi.ResourceTransformationResult(props, opts)

    def attach_to_every_role(self) -> None:
        """Every role created from now on carries a boundary (see the module docstring)."""
        pulumi.runtime.register_stack_transformation(self._bound)
