"""Network rules: public ingress only as HTTPS to load balancers, flow logs, default SG."""

from __future__ import annotations

from typing import Any

import pytest
from harness import messages, res

SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
LB_TAGS = {"role": "load-balancer"}


def https(**extra: Any) -> dict[str, Any]:
    return {"fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"], **extra}


def happy() -> list[dict[str, Any]]:
    lb = res(SG, "lb", {"tags": LB_TAGS, "ingress": [https()]})
    db = res(
        SG,
        "db",
        {
            "tags": {},
            "ingress": [
                {"fromPort": 5432, "toPort": 5432, "protocol": "tcp", "cidrBlocks": ["10.0.0.0/16"]}
            ],
        },
    )
    return [
        lb,
        db,
        res(
            INGRESS,
            "lb-v6",
            {
                "securityGroupId": "sg-1",
                "cidrIpv6": "::/0",
                "fromPort": 443,
                "toPort": 443,
                "ipProtocol": "tcp",
            },
            deps={"securityGroupId": [lb]},
        ),
        res(
            SG_RULE,
            "lb-rule",
            {
                "type": "ingress",
                "securityGroupId": "sg-1",
                "fromPort": 443,
                "toPort": 443,
                "protocol": "tcp",
                "cidrBlocks": ["0.0.0.0/0"],
            },
            deps={"securityGroupId": [lb]},
        ),
        res(
            INGRESS,
            "db-from-vpc",
            {
                "securityGroupId": "sg-2",
                "cidrIpv4": "10.0.0.0/16",
                "fromPort": 5432,
                "toPort": 5432,
                "ipProtocol": "tcp",
            },
            deps={"securityGroupId": [db]},
        ),
    ]


def test_security_group_no_public_ingress_passes() -> None:
    assert messages("security-group-no-public-ingress", happy()) == []


def _set(name: str, **change: Any) -> Any:
    def apply(rs: list[dict[str, Any]]) -> None:
        target = next(r for r in rs if r["name"] == name)
        target["inputs"].update(change)

    return apply


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _set("db", ingress=[https()]),
            "Ingress from 0.0.0.0/0 to tcp 443-443 on a group not tagged role=load-balancer; only "
            "tcp 443 to load balancers may be open to the internet.",
        ),
        (
            _set("lb", ingress=[https(fromPort=22, toPort=22)]),
            "Ingress from 0.0.0.0/0 to tcp 22-22 on a load-balancer group; only tcp 443 to load "
            "balancers may be open to the internet.",
        ),
        (
            _set("db-from-vpc", cidrIpv4="0.0.0.0/0"),
            "Ingress from 0.0.0.0/0 to tcp 5432-5432 on a group not tagged role=load-balancer; "
            "only tcp 443 to load balancers may be open to the internet.",
        ),
        (
            _set("lb-v6", ipProtocol="-1", fromPort=None, toPort=None),
            "Ingress from ::/0 to all traffic on a load-balancer group; only tcp 443 to load "
            "balancers may be open to the internet.",
        ),
        (
            _set("lb-rule", fromPort=80, toPort=80),
            "Ingress from 0.0.0.0/0 to tcp 80-80 on a load-balancer group; only tcp 443 to load "
            "balancers may be open to the internet.",
        ),
    ],
)
def test_security_group_no_public_ingress_fails(change: Any, message: str) -> None:
    rs = happy()
    change(rs)
    assert messages("security-group-no-public-ingress", rs) == [message]


def test_description_does_not_make_a_load_balancer() -> None:
    rs = [res(SG, "web", {"description": "load balancer", "ingress": [https()]})]
    assert len(messages("security-group-no-public-ingress", rs)) == 1


VPC = "aws:ec2/vpc:Vpc"
FLOW = "aws:ec2/flowLog:FlowLog"


def test_vpc_flow_logs_passes() -> None:
    vpc = res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})
    flow = res(FLOW, "flow", {"vpcId": "vpc-1", "trafficType": "ALL"}, deps={"vpcId": [vpc]})
    assert messages("vpc-flow-logs", [vpc, flow]) == []


def test_vpc_flow_logs_fails() -> None:
    assert messages("vpc-flow-logs", [res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})]) == [
        "VPC 'vpc' has no flow log."
    ]


DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"


def test_default_security_group_closed_passes() -> None:
    assert messages("default-security-group-closed", [res(DEFAULT_SG, "d", {"vpcId": "v"})]) == []


def test_default_security_group_closed_fails() -> None:
    rs = [
        res(
            DEFAULT_SG,
            "d",
            {
                "vpcId": "v",
                "egress": [
                    {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}
                ],
            },
        )
    ]
    assert messages("default-security-group-closed", rs) == [
        "The default security group has egress rules; it must allow nothing."
    ]
