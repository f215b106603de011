"""Network built alone: private and public subnets per zone, NAT, endpoints, flow logs."""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
import pytest
from alone import ACCOUNT, REGION, Built, build

from infra.foundation.network.component import Network, NetworkArgs
from infra.foundation.network.config import NetworkConfig

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
TYPE = "mlops:network:Network"


def network(config: NetworkConfig, zones: list[str]) -> Built:
    def make(opts: pulumi.ResourceOptions) -> None:
        Network(
            "network",
            NetworkArgs(
                config=config,
                name="t",
                zones=zones,
                account_id=ACCOUNT,
                region=REGION,
                cluster_name="t",
            ),
            opts=opts,
        )

    def held(b: Any) -> dict[str, Any]:
        ec2 = b.client("ec2")
        (vpc,) = [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == config.cidr]
        mine = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
        return {
            "subnets": ec2.describe_subnets(Filters=mine)["Subnets"],
            "nats": ec2.describe_nat_gateways()["NatGateways"],
            "endpoints": ec2.describe_vpc_endpoints()["VpcEndpoints"],
            "flow_logs": ec2.describe_flow_logs()["FlowLogs"],
        }

    return build(make, inspect=held)


def test_a_cheap_network_in_two_zones() -> None:
    built = network(NetworkConfig(cidr="10.40.0.0/16"), ZONES[:2])
    built.assert_parented(TYPE)
    subnets = built.aws["subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == sorted(ZONES[:2] * 2)
    nets = [ipaddress.ip_network(s["CidrBlock"]) for s in subnets]
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    assert len(built.aws["nats"]) == 1  # single NAT gateway
    (s3,) = built.aws["endpoints"]
    assert s3["ServiceName"] == f"com.amazonaws.{REGION}.s3"
    assert built.aws["flow_logs"] == [] and not built.of_type("aws:cloudwatch/logGroup:LogGroup")


def test_a_zone_independent_network_with_private_endpoints_and_flow_logs() -> None:
    config = NetworkConfig(
        cidr="10.42.0.0/16",
        az_count=3,
        nat_gateways="per_az",
        interface_endpoints=["ecr.api", "sts"],
        flow_logs=True,
        flow_logs_retention_days=365,
    )
    built = network(config, ZONES)
    assert len(built.aws["nats"]) == 3
    services = sorted(e["ServiceName"].rsplit(".", 1)[-1] for e in built.aws["endpoints"])
    assert services == ["api", "s3", "sts"]
    (flow,) = built.aws["flow_logs"]
    assert flow["TrafficType"] == "ALL"
    group = built.inputs("aws:cloudwatch/logGroup:LogGroup")
    assert group["retentionInDays"] == 365 and group["kmsKeyId"]


@pytest.mark.parametrize("zones", [["us-east-1a"], ["us-east-1a", "us-east-1a"]])
def test_fewer_than_two_distinct_zones_are_refused(zones: list[str]) -> None:
    with pytest.raises(ValueError, match=r"at least 2|distinct"):
        NetworkArgs(
            config=NetworkConfig(), name="t", zones=zones, account_id=ACCOUNT, region=REGION
        )
