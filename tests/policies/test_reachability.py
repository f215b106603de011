"""Reachability: a stack that writes Kubernetes objects shows how its deployer reaches the
EKS API (a runner in the VPC admitted on 443 with an access entry, or public CIDRs that are
not open); each failing case changes one field of a passing stack."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from harness import find, messages, mutated, res

POLICY = "eks-deployer-reaches-api"
CLUSTER = "aws:eks/cluster:Cluster"
SUBNET = "aws:ec2/subnet:Subnet"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ROLE = "aws:iam/role:Role"
PROJECT = "aws:codebuild/project:Project"
ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
PRIVATE = "the API endpoint is private and nothing shows how the deployer reaches it"


def stack(public_cidrs: list[str] | None = None) -> list[dict[str, Any]]:
    """A private cluster, a namespace in it, and the runner (as the deployer slice makes it)."""
    a = res(SUBNET, "private-a", {"cidrBlock": "10.0.0.0/20"})
    b = res(SUBNET, "private-b", {"cidrBlock": "10.0.16.0/20"})
    other = res(SUBNET, "public-a", {"cidrBlock": "10.0.64.0/20"})
    vpc_config: dict[str, Any] = {"subnetIds": ["subnet-a", "subnet-b"]}
    if public_cidrs is not None:
        vpc_config |= {"endpointPublicAccess": True, "publicAccessCidrs": public_cidrs}
    else:
        vpc_config |= {"endpointPublicAccess": False, "endpointPrivateAccess": True}
    cluster = res(CLUSTER, "cluster", {"name": "acme-dev", "vpcConfig": vpc_config},
                  deps={"vpcConfig": [a, b]})  # fmt: skip
    runner_sg = res(SG, "deployer", {"name": "acme-dev-deployer", "vpcId": "vpc-1"})
    elsewhere = res(SG, "elsewhere", {"name": "acme-dev-db", "vpcId": "vpc-1"})
    role = res(ROLE, "deployer", {"name": "acme-dev-deployer", "assumeRolePolicy": "{}"})
    project = res(
        PROJECT,
        "deployer",
        {
            "name": "acme-dev-deployer",
            "serviceRole": "arn:aws:iam::123456789012:role/acme-dev-deployer",
            "vpcConfig": {
                "vpcId": "vpc-1",
                "subnets": ["subnet-a", "subnet-b"],
                "securityGroupIds": ["sg-runner"],
            },
        },
        deps={"vpcConfig": [a, b, runner_sg], "serviceRole": [role]},
    )
    https = {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443}
    ingress = res(
        INGRESS,
        "deployer-api",
        {**https, "securityGroupId": "sg-cluster", "referencedSecurityGroupId": "sg-runner"},
        deps={"securityGroupId": [cluster], "referencedSecurityGroupId": [runner_sg]},
    )
    egress = res(
        EGRESS,
        "deployer-to-api",
        {**https, "securityGroupId": "sg-runner", "referencedSecurityGroupId": "sg-cluster"},
        deps={"securityGroupId": [runner_sg], "referencedSecurityGroupId": [cluster]},
    )
    principal = {"clusterName": "acme-dev", "principalArn": "arn:aws:iam::1:role/acme-dev-deployer"}
    link = {"clusterName": [cluster], "principalArn": [role]}
    entry = res(ENTRY, "deployer-api", {**principal, "type": "STANDARD"}, deps=link)
    admin = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    association = res(ASSOCIATION, "deployer-api", {**principal, "policyArn": admin}, deps=link)
    namespace = res("kubernetes:core/v1:Namespace", "kubeflow", {"metadata": {"name": "kubeflow"}})
    return [a, b, other, cluster, runner_sg, elsewhere, role, project, ingress, egress, entry,
            association, namespace]  # fmt: skip


def only_public(cidrs: list[str]) -> list[dict[str, Any]]:
    """The cluster public to ``cidrs``, and no runner."""
    rs = stack(cidrs)
    return [r for r in rs if r["type"] in (CLUSTER, SUBNET, "kubernetes:core/v1:Namespace")]


def test_a_runner_in_the_vpc_reaches_the_private_api() -> None:
    assert messages(POLICY, stack()) == []


def test_a_stack_without_kubernetes_objects_need_not_reach_the_api() -> None:
    rs = [r for r in stack() if not r["type"].startswith(("kubernetes:", "aws:codebuild"))]
    assert messages(POLICY, rs) == []


def _no_runner(rs: list[dict[str, Any]]) -> None:
    rs.remove(find(rs, "project:Project"))


def _outside_the_vpc(rs: list[dict[str, Any]]) -> None:
    find(rs, "project:Project")["inputs"].pop("vpcConfig")


def _other_subnets(rs: list[dict[str, Any]]) -> None:
    project = find(rs, "project:Project")
    project["propertyDependencies"]["vpcConfig"][0] = find(rs, "subnet:Subnet", "public-a")["urn"]


def _ssh_not_https(rs: list[dict[str, Any]]) -> None:
    find(rs, "SecurityGroupIngressRule")["inputs"].update(fromPort=22, toPort=22)


def _rule_on_another_group(rs: list[dict[str, Any]]) -> None:
    rule = find(rs, "SecurityGroupIngressRule")
    rule["propertyDependencies"]["securityGroupId"] = [find(rs, "securityGroup:SecurityGroup",
                                                            "elsewhere")["urn"]]  # fmt: skip


def _from_another_group(rs: list[dict[str, Any]]) -> None:
    rule = find(rs, "SecurityGroupIngressRule")
    rule["propertyDependencies"]["referencedSecurityGroupId"] = [
        find(rs, "securityGroup:SecurityGroup", "elsewhere")["urn"]
    ]


def _no_egress(rs: list[dict[str, Any]]) -> None:
    find(rs, "SecurityGroupEgressRule")["inputs"].update(fromPort=80, toPort=80)


def _entry_for_another_role(rs: list[dict[str, Any]]) -> None:
    entry = find(rs, "accessEntry:AccessEntry")
    entry["propertyDependencies"]["principalArn"] = ["urn:pulumi:prod::proj::aws:iam/role:Role::x"]


def _no_access_policy(rs: list[dict[str, Any]]) -> None:
    rs.remove(find(rs, "accessPolicyAssociation:AccessPolicyAssociation"))


RUNNER = "CodeBuild project 'acme-dev-deployer'"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_no_runner, "the stack has no runner in the VPC"),
        (_outside_the_vpc, f"{RUNNER} has no vpcConfig (it runs outside the VPC)"),
        (_other_subnets, f"{RUNNER} is not in the cluster's subnets"),
        (_ssh_not_https, f"the cluster's security group has no tcp 443 ingress rule from the "
                         f"security group of {RUNNER}"),
        (_rule_on_another_group, "the cluster's security group has no tcp 443 ingress rule"),
        (_from_another_group, "the cluster's security group has no tcp 443 ingress rule"),
        (_no_egress, f"the security group of {RUNNER} allows no tcp 443 egress"),
        (_entry_for_another_role, f"the role of {RUNNER} has no EKS access entry with an access "
                                  "policy on the cluster"),
        (_no_access_policy, f"the role of {RUNNER} has no EKS access entry"),
    ],
)  # fmt: skip
def test_a_private_api_nothing_reaches_is_refused(change: Any, why: str) -> None:
    (message,) = messages(POLICY, mutated(stack(), change))
    assert message.startswith(f"EKS cluster 'acme-dev': {PRIVATE} ({why}")


def test_public_access_for_named_cidrs_reaches_the_api() -> None:
    assert messages(POLICY, only_public(["203.0.113.0/24", "198.51.100.7/32"])) == []
    assert messages(POLICY, only_public(["10.20.0.0/16"])) == []


@pytest.mark.parametrize(
    ("cidrs", "problems"),
    [
        (["0.0.0.0/0"], ["0.0.0.0/0 is wider than a /16",
                         "together (0.0.0.0/0) they cover 4294967296 addresses"]),
        (["0.0.0.0/1", "128.0.0.0/1"], ["0.0.0.0/1 is wider than a /16",
                                        "128.0.0.0/1 is wider than a /16",
                                        "together (0.0.0.0/0) they cover"]),
        (["198.16.0.0/12"], ["198.16.0.0/12 is wider than a /16"]),
        ([str(n) for n in ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=16)],
         ["together (10.0.0.0/8) they cover 16777216 addresses, a /8 or more"]),
        (["not-a-cidr"], ["'not-a-cidr' is not a CIDR block"]),
        ([], ["the public endpoint has no publicAccessCidrs (AWS opens it to 0.0.0.0/0)"]),
    ],
)  # fmt: skip
def test_open_public_cidrs_are_refused(cidrs: list[str], problems: list[str]) -> None:
    found = messages(POLICY, only_public(cidrs))
    assert len(found) == len(problems), found
    for message, problem in zip(sorted(found), sorted(problems), strict=True):
        assert message.startswith(f"EKS cluster 'acme-dev': public API endpoint: {problem}")


def test_open_public_cidrs_are_refused_even_beside_a_runner() -> None:
    rs = stack(["0.0.0.0/1", "128.0.0.0/1"])
    found = messages(POLICY, rs)
    assert found and all("public API endpoint" in m for m in found)


def test_objects_in_a_cluster_the_stack_does_not_create_are_refused() -> None:
    """A brought-in cluster: no endpoint, CIDRs or security groups in the plan, so nothing
    shows the path (fail closed)."""
    rs = [r for r in stack() if r["type"].startswith("kubernetes:")]
    assert messages(POLICY, rs) == [
        "the stack writes Kubernetes objects (kubernetes:core/v1:Namespace 'kubeflow', ...) "
        "into a cluster it does not create: the plan cannot show how the deployer reaches "
        "its API."
    ]
