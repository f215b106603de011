"""Network: zones, public/private subnets, NAT per environment, endpoints, flow logs."""

from __future__ import annotations

import ipaddress
import json

import pytest
from plans import Planned

from infra.foundation.network.component import NetworkArgs
from infra.foundation.network.config import NetworkConfig

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"


def ours(env: Planned) -> dict:
    """The stack's VPC as moto holds it (moto also has a default VPC)."""
    cidr = env.config.network.cidr
    (vpc,) = [v for v in env.aws["vpcs"] if v["CidrBlock"] == cidr]
    return vpc


def test_vpc_spans_the_configured_zones_with_a_public_and_private_subnet_each(
    env: Planned,
) -> None:
    vpc = ours(env)
    subnets = [s for s in env.aws["subnets"] if s["VpcId"] == vpc["VpcId"]]
    zones = {s["AvailabilityZone"] for s in subnets}
    assert len(zones) == env.config.network.az_count >= 2
    assert len(subnets) == 2 * len(zones)
    for subnet in env.of_type(SUBNET):
        assert subnet["inputs"]["mapPublicIpOnLaunch"] is False
        role = "internal-elb" if "-private-" in subnet["name"] else "elb"
        assert subnet["inputs"]["tags"][f"kubernetes.io/role/{role}"] == "1"


def test_prod_uses_three_zones(prod: Planned) -> None:
    assert len({s["inputs"]["availabilityZone"] for s in prod.of_type(SUBNET)}) == 3


def test_nat_one_in_dev_and_one_per_zone_in_prod(env: Planned) -> None:
    vpc = ours(env)
    nats = [n for n in env.aws["nat_gateways"] if n["VpcId"] == vpc["VpcId"]]
    expected = {"single": 1, "per_az": env.config.network.az_count}[env.config.network.nat_gateways]
    assert len(nats) == len(env.of_type(NAT)) == expected
    if env.env == "dev":
        assert len(nats) == 1
    if env.env == "prod":
        assert len(nats) == 3


def test_each_private_subnet_leaves_through_nat_in_its_own_zone_when_per_az(env: Planned) -> None:
    private_cidrs = {
        r["inputs"]["cidrBlock"] for r in env.of_type(SUBNET) if "-private-" in r["name"]
    }
    vpc = ours(env)
    zone_of = {s["SubnetId"]: s["AvailabilityZone"] for s in env.aws["subnets"]}
    nat_zone = {n["NatGatewayId"]: zone_of[n["SubnetId"]] for n in env.aws["nat_gateways"]}
    private = {
        s["SubnetId"]
        for s in env.aws["subnets"]
        if s["VpcId"] == vpc["VpcId"] and s["CidrBlock"] in private_cidrs
    }
    checked = 0
    for table in env.aws["route_tables"]:
        for subnet in {a.get("SubnetId") for a in table.get("Associations", [])} & private:
            (default,) = [
                r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"
            ]
            assert "NatGatewayId" in default and "GatewayId" not in default
            if env.config.network.nat_gateways == "per_az":
                assert nat_zone[default["NatGatewayId"]] == zone_of[subnet]
            checked += 1
    assert checked == len(private) == env.config.network.az_count


def test_subnet_layout_fits_the_vpc_without_overlap() -> None:
    args = NetworkArgs(
        config=NetworkConfig(cidr="10.42.0.0/16", az_count=3),
        name="x",
        zones=["a", "b", "c"],
        account_id="1",
        region="r",
    )
    public, private = args.subnet_cidrs()
    nets = [ipaddress.ip_network(c) for c in public + private]
    assert all(n.subnet_of(ipaddress.ip_network("10.42.0.0/16")) for n in nets)  # type: ignore[arg-type]
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


def test_s3_gateway_endpoint_on_every_private_route_table(env: Planned) -> None:
    vpc = ours(env)
    (s3,) = [
        e
        for e in env.aws["vpc_endpoints"]
        if e["VpcId"] == vpc["VpcId"] and e["ServiceName"].endswith(".s3")
    ]
    assert s3["VpcEndpointType"] == "Gateway"
    assert len(s3["RouteTableIds"]) == env.config.network.az_count


def test_interface_endpoints_exactly_as_configured_and_https_from_the_vpc_only(
    env: Planned,
) -> None:
    vpc = ours(env)
    interface = [
        e
        for e in env.aws["vpc_endpoints"]
        if e["VpcId"] == vpc["VpcId"] and e["VpcEndpointType"] == "Interface"
    ]
    wanted = {
        f"com.amazonaws.{env.config.region}.{s}" for s in env.config.network.interface_endpoints
    }
    assert {e["ServiceName"] for e in interface} == wanted
    rules = env.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    endpoint_rules = [r for r in rules if r["name"] == "network-endpoints-https"]
    assert len(endpoint_rules) == (1 if wanted else 0)
    for rule in endpoint_rules:
        assert rule["inputs"]["cidrIpv4"] == env.config.network.cidr
        assert rule["inputs"]["fromPort"] == rule["inputs"]["toPort"] == 443
    if env.env == "dev":
        assert not interface


def test_flow_logs_in_staging_and_prod_to_an_encrypted_log_group(env: Planned) -> None:
    logs = env.aws["flow_logs"]
    if not env.config.network.flow_logs:
        assert env.env == "dev" and not logs
        return
    (flow,) = logs
    assert flow["ResourceId"] == ours(env)["VpcId"] and flow["TrafficType"] == "ALL"
    assert flow["DeliverLogsStatus"] == "SUCCESS"  # moto found the group and the role
    name = flow["LogGroupName"]
    (group,) = [g for g in env.aws["log_groups"] if g["logGroupName"] == name]
    assert group["retentionInDays"] == env.config.network.flow_logs_retention_days
    assert group["kmsKeyId"].startswith(f"arn:aws:kms:{env.config.region}:")
    role = env.aws["roles"][flow["DeliverLogsPermissionArn"].rsplit("/", 1)[-1]]
    (policy,) = role["inline"].values()
    assert all(name in r for st in policy["Statement"] for r in st["Resource"])


def test_default_security_group_is_emptied(env: Planned) -> None:
    vpc = ours(env)
    (default,) = [
        g
        for g in env.aws["security_groups"]
        if g["VpcId"] == vpc["VpcId"] and g["GroupName"] == "default"
    ]
    assert default["IpPermissions"] == [] and default["IpPermissionsEgress"] == []


@pytest.mark.parametrize("planned", ["dev", "staging", "prod", "byo"])
def test_no_security_group_is_open_to_the_internet(planned: str) -> None:
    from plans import planned as planned_env

    p = planned_env(planned)
    for rule in p.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        assert rule["inputs"].get("cidrIpv4") not in ("0.0.0.0/0",), rule["name"]
        assert rule["inputs"].get("cidrIpv6") not in ("::/0",), rule["name"]
    for group in p.aws["security_groups"]:
        for perm in group["IpPermissions"]:
            cidrs = [r["CidrIp"] for r in perm.get("IpRanges", [])]
            cidrs += [r["CidrIpv6"] for r in perm.get("Ipv6Ranges", [])]
            assert "0.0.0.0/0" not in cidrs and "::/0" not in cidrs, json.dumps(group)
