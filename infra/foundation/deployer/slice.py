"""The deploy runner: how CI's ``pulumi up`` reaches the cluster's private API.

After the network and the cluster (it runs in their subnets and is admitted by the
cluster's security group). Without a runner (``deployer.runner: none``) nothing is made:
the CI role then deploys itself (infra/foundation/ci/slice.py), from wherever it has a
path to the API.
"""

from __future__ import annotations

import pulumi

from infra.foundation.ci.boundary import has_deployer_identity
from infra.foundation.ci.permissions import managed_deploy_policies
from infra.foundation.deployer.component import DeployRunner, DeployRunnerArgs
from infra.platform import Platform


def deploy(p: Platform) -> None:
    cfg = p.config
    if cfg.deployer.resolved_runner(cfg.cluster.mode) != "codebuild":
        pulumi.export("deployer", None)
        return
    # its role carries the deployer boundary, which the ci slice made (it ran first)
    assert has_deployer_identity(cfg)
    scope = p.deploy_scope
    vpc_id, subnet_ids = p.subnets
    cluster = p.the_cluster
    runner = DeployRunner(
        "deployer",
        DeployRunnerArgs(
            config=cfg.deployer,
            name=scope.runner_name,
            stack=p.env,
            account_id=p.account_id,
            region=p.region,
            partition=p.partition,
            vpc_id=vpc_id,
            subnet_ids=subnet_ids,
            cluster_name=cluster.cluster_name,
            cluster_security_group_id=cluster.node_security_group_id,
            source_bucket=scope.artifact_bucket,
            source_prefix=scope.source_prefix,
            deploy_policies=managed_deploy_policies(scope),
            permissions_boundary=scope.deployer_boundary_arn,
            secrets_name=f"{p.base}/deployer/pulumi",
            tags=p.tags,
        ),
        opts=p.aws,
    )
    pulumi.export(
        "deployer",
        {
            "project": runner.project_name,
            "role_arn": runner.role_arn,
            "log_group": f"/aws/codebuild/{scope.runner_name}",
            "source": f"s3://{scope.artifact_bucket}/{scope.source_prefix}/",
        },
    )
