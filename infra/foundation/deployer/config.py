"""The ``deployer`` section: where ``pulumi up`` runs when CI deploys the stack.

The cluster's API endpoint is private (``cluster.endpoint_public_access: false``) and
GitHub-hosted runners cannot be allow-listed by CIDR, so CI deploys through a runner
inside the VPC (docs/adr/0003-how-the-deployer-reaches-the-private-api.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infra.base.config import LogRetentionDays, Strict


class DeployerConfig(Strict):
    """The deploy runner.

    Attributes:
        runner: ``codebuild``: a CodeBuild project in the private subnets runs
            ``pulumi up``; GitHub Actions only uploads the checkout and starts it.
            ``none``: no runner; whoever runs ``pulumi up`` needs its own path to the API
            (a self-hosted runner in the VPC, or a person through
            ``cluster.public_access_cidrs``), and the CI role then holds the deploy
            permissions itself. Unset: ``codebuild`` when the stack creates its cluster,
            ``none`` for a brought-in one (whose API path the stack does not know).
        compute_type: CodeBuild compute (``pulumi up`` of the platform and ``make venv``
            need more than the small type's 3 GB).
        image: CodeBuild's curated image, by its versioned name.
        timeout_minutes: A build that runs longer is stopped (CodeBuild: 5..2160).
        queued_timeout_minutes: A build queued longer is dropped (CodeBuild: 5..480).
        log_retention_days: Retention of the build logs (a CloudWatch Logs value).
    """

    runner: Literal["codebuild", "none"] | None = None
    compute_type: Literal[
        "BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"
    ] = "BUILD_GENERAL1_MEDIUM"
    image: str = Field(
        default="aws/codebuild/amazonlinux-x86_64-standard:5.0",
        pattern=r"^aws/codebuild/[a-z0-9_.-]+:\d+\.\d+$",
    )
    timeout_minutes: int = Field(default=60, ge=5, le=2160)
    queued_timeout_minutes: int = Field(default=30, ge=5, le=480)
    log_retention_days: LogRetentionDays = 90

    def resolved_runner(self, cluster_mode: str) -> Literal["codebuild", "none"]:
        """The runner in effect for a stack whose cluster ``mode`` is ``cluster_mode``."""
        if self.runner is not None:
            return self.runner
        return "codebuild" if cluster_mode == "create" else "none"
