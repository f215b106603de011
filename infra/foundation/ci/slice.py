"""The CI identity: the role GitHub Actions deploys the stack with (none without a repository)."""

from __future__ import annotations

import pulumi

from infra.foundation.ci.component import CiIdentity, CiIdentityArgs
from infra.platform import Platform


def deploy(p: Platform) -> None:
    cfg = p.config
    ci: CiIdentity | None = None
    if cfg.ci.github_repository:
        args = CiIdentityArgs(
            config=cfg.ci,
            role_name=f"{p.base}-github-actions",
            name_prefix=p.base,
            repository_arns=[
                f"arn:{p.partition}:ecr:{p.region}:{p.account_id}:repository/{p.base}/{r}"
                for r in cfg.registry.repositories
            ],
            account_id=p.account_id,
            partition=p.partition,
            tags=p.tags,
        )
        ci = CiIdentity("ci", args, opts=p.aws)
        p.ci_role_arn = args.role_arn
    pulumi.export("ci_role_arn", ci.role_arn if ci else None)
