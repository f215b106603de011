"""The CI identity and the permissions boundaries: runs first, so every role any later
slice creates carries a boundary (infra/foundation/ci/boundary.py).

Who runs ``pulumi up`` for CI decides what the GitHub Actions role holds: with the
in-VPC runner (``deployer.runner: codebuild``, infra/foundation/deployer/) the runner's
role holds the deploy policy and the GitHub role may only start it; without a runner the
GitHub role holds the deploy policy itself (and needs its own path to the API).
"""

from __future__ import annotations

import pulumi

from infra.foundation.ci.boundary import (
    PermissionBoundaries,
    PermissionBoundariesArgs,
    has_deployer_identity,
)
from infra.foundation.ci.component import CiIdentity, CiIdentityArgs
from infra.foundation.ci.permissions import managed_deploy_policies, trigger_policy
from infra.platform import Platform


def deploy(p: Platform) -> None:
    cfg = p.config
    scope = p.deploy_scope
    runner = cfg.deployer.resolved_runner(cfg.cluster.mode)
    if not has_deployer_identity(cfg):
        pulumi.export("ci_role_arn", None)
        pulumi.export("ci", None)
        pulumi.export("deploy_identity", None)
        return

    boundaries = PermissionBoundaries(
        "boundaries", PermissionBoundariesArgs(scope=scope, tags=p.tags), opts=p.aws
    )
    boundaries.attach_to_every_role()

    ci: CiIdentity | None = None
    if cfg.ci.github_repository:
        via_runner = runner == "codebuild"
        args = CiIdentityArgs(
            config=cfg.ci,
            role_name=scope.ci_role_name,
            account_id=p.account_id,
            partition=p.partition,
            permissions_boundary=scope.deployer_boundary_arn,
            policies={"start-deploy": trigger_policy(scope)} if via_runner else {},
            managed_policies={} if via_runner else managed_deploy_policies(scope),
            repository_arns=[
                scope.arn("ecr", f"repository/{p.base}/{r}") for r in cfg.registry.repositories
            ],
            tags=p.tags,
        )
        ci = CiIdentity("ci", args, opts=p.aws)
        p.ci_role_arn = args.role_arn
        p.ci_role = ci.role
        if not via_runner:
            p.cluster_admin_role_arns.append(args.role_arn)

    pulumi.export("ci_role_arn", ci.role_arn if ci else None)
    pulumi.export(
        "ci",
        {
            "role_name": scope.ci_role_name,
            "repository": cfg.ci.github_repository,
            "environment": cfg.ci.environment,
            "branch": cfg.ci.branch,
            "subject_template": list(cfg.ci.subject_template),
            "subject": cfg.ci.subject,
        }
        if ci
        else None,
    )
    # who runs `pulumi up` (deployers) and who may only start it (triggers): what
    # mlops/checks/ci.py evaluates for escalation
    via_runner = runner == "codebuild"
    pulumi.export(
        "deploy_identity",
        {
            "base": scope.base,
            "workload_boundary_arn": scope.workload_boundary_arn,
            "deployer_boundary_arn": scope.deployer_boundary_arn,
            "deployers": [scope.runner_name] if via_runner else [scope.ci_role_name],
            "triggers": [scope.ci_role_name] if via_runner and ci else [],
        },
    )
