"""The network the platform lives in: a VPC it creates, or a brought-in cluster's subnets."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.base.config import ConfigError, FieldProblem
from infra.foundation.network.component import Network, NetworkArgs
from infra.platform import Platform


def deploy(p: Platform) -> None:
    cfg, cc = p.config, p.config.cluster
    if cc.mode == "create":
        # zone ids, not the first N names: EKS refuses a control plane in some zones
        available = aws.get_availability_zones(state="available", opts=p.invoke)
        try:
            zones = cfg.network.pick_zones(available.names, available.zone_ids)
        except FieldProblem as problem:
            raise ConfigError(f"platform.network.{problem.field}: {problem.reason}") from None
        network = Network(
            "network",
            NetworkArgs(
                config=cfg.network,
                name=p.base,
                zones=zones,
                account_id=p.account_id,
                region=p.region,
                partition=p.partition,
                cluster_name=p.base,
                tags=p.tags,
            ),
            opts=p.aws,
        )
        p.vpc_id, p.private_subnet_ids = network.vpc_id, network.private_subnet_ids
    else:
        # Look the brought-in pieces up: AWS fails the preview if they do not exist or
        # lie outside the VPC, and their zones must really be different for Multi-AZ.
        assert cc.vpc_id is not None and cc.node_security_group_id is not None
        looked_up = [
            aws.ec2.get_subnet(id=subnet, vpc_id=cc.vpc_id, opts=p.invoke)
            for subnet in cc.private_subnet_ids
        ]
        if len({s.availability_zone for s in looked_up}) < 2:
            raise ConfigError(
                "platform.cluster.private_subnet_ids: all subnets are in "
                f"{looked_up[0].availability_zone}; databases need 2 zones"
            )
        aws.ec2.get_security_group(id=cc.node_security_group_id, vpc_id=cc.vpc_id, opts=p.invoke)
        p.vpc_id, p.private_subnet_ids = cc.vpc_id, list(cc.private_subnet_ids)
    pulumi.export("vpc_id", p.vpc_id)
    pulumi.export("private_subnet_ids", p.private_subnet_ids)
