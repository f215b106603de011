"""Reachability: a stack that writes Kubernetes objects into an EKS cluster it creates shows
how its deployer reaches that cluster's API.

``pulumi up`` talks to the API server for every Kubernetes object. A private endpoint is
reachable only from inside the VPC; a public one only from its ``publicAccessCidrs``. So
the plan must show one of:

* a **public endpoint limited to people**: ``endpointPublicAccess`` with
  ``publicAccessCidrs``, none of them open (every IPv4 block at least a /16, IPv6 a /48,
  and together less than a /8's worth of addresses: 0.0.0.0/1 + 128.0.0.0/1 is the
  internet in two halves);
* a **runner in the VPC**: a CodeBuild project whose ``vpcConfig`` puts it in the
  cluster's subnets, with a security group the cluster's security group admits on tcp 443
  (an ingress rule on the cluster's group, from the runner's) and that may send tcp 443
  there (egress to the cluster's group or to 0.0.0.0/0), and whose role has an EKS access
  entry on the cluster with an access policy.

Resources are matched the way Pulumi links them: a property dependency on the resource
(what a real preview has, when ids are still unknown), else an equal value (the offline
plan's ids). Public CIDRs that are too open are refused even when a runner exists.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from pulumi_policy import Policy, PolicyResource, ReportViolation, StackValidationArgs

from .common import as_dict, as_int, as_list, get, is_true, resources_of, stack_policy

CLUSTER = "aws:eks/cluster:Cluster"
PROJECT = "aws:codebuild/project:Project"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
SUBNET = "aws:ec2/subnet:Subnet"
ROLE = "aws:iam/role:Role"
HTTPS = 443
MIN_PREFIX = {4: 16, 6: 48}
MAX_ADDRESSES = {4: 2**24, 6: 2**80}  # a /8 of IPv4; a /48 of IPv6


def _is_kubernetes(r: PolicyResource) -> bool:
    return r.resource_type.startswith("kubernetes:")


def _deps(r: PolicyResource, prop: str) -> list[PolicyResource]:
    return list(r.property_dependencies.get(prop) or [])


def _ident(r: PolicyResource, *keys: str) -> set[str]:
    return {str(r.props[k]) for k in keys if isinstance(r.props.get(k), str)}


def _refers(
    value: Any, deps: Iterable[PolicyResource], target: PolicyResource, *, via: set[str]
) -> bool:
    """``value`` (with its property dependencies) names ``target`` (by its ids ``via``)."""
    if any(d.urn == target.urn for d in deps):
        return True
    return any(isinstance(v, str) and v in via for v in as_list(value))


# ------------------------------------------------------------------ public endpoint


def open_cidrs(cidrs: list[Any]) -> list[str]:
    """Why these public-access CIDRs are open (empty: they are not)."""
    problems: list[str] = []
    networks: dict[int, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {4: [], 6: []}
    for raw in cidrs:
        try:
            net = ipaddress.ip_network(str(raw), strict=False)
        except ValueError:
            problems.append(f"{raw!r} is not a CIDR block")
            continue
        if net.prefixlen < MIN_PREFIX[net.version]:
            problems.append(f"{net} is wider than a /{MIN_PREFIX[net.version]}")
        networks[net.version].append(net)
    for version, nets in networks.items():
        union = list(ipaddress.collapse_addresses(nets))  # type: ignore[type-var]
        total = sum(n.num_addresses for n in union)
        if total >= MAX_ADDRESSES[version]:
            shown = ", ".join(str(n) for n in union)
            problems.append(
                f"together ({shown}) they cover {total} addresses, a /8 or more of the internet"
                if version == 4
                else f"together ({shown}) they cover a /48 or more"
            )
    return problems


def _public_route(cluster: PolicyResource) -> tuple[bool, list[str]]:
    """(the endpoint is public, why its CIDRs are too open)."""
    vpc = as_dict(cluster.props.get("vpcConfig"))
    public = vpc.get("endpointPublicAccess")
    if public is not None and not is_true(public):
        return False, []
    cidrs = as_list(vpc.get("publicAccessCidrs"))
    if not cidrs:
        return True, ["the public endpoint has no publicAccessCidrs (AWS opens it to 0.0.0.0/0)"]
    return True, open_cidrs(cidrs)


# ------------------------------------------------------------------ runner in the VPC


def _https(props: Any) -> bool:
    protocol = str(get(props, "ipProtocol") or get(props, "protocol") or "")
    if protocol == "-1":
        return True
    low, high = as_int(get(props, "fromPort")), as_int(get(props, "toPort"))
    return (
        protocol.lower() in ("tcp", "6")
        and low is not None
        and high is not None
        and low <= HTTPS <= high
    )


def _cluster_groups(cluster: PolicyResource) -> set[str]:
    vpc = as_dict(cluster.props.get("vpcConfig"))
    groups = {str(g) for g in as_list(vpc.get("securityGroupIds")) if isinstance(g, str)}
    if isinstance(vpc.get("clusterSecurityGroupId"), str):
        groups.add(vpc["clusterSecurityGroupId"])
    return groups


def _on_cluster_group(
    rule: PolicyResource, cluster: PolicyResource, prop: str = "securityGroupId"
) -> bool:
    """The rule's ``prop`` is the cluster's security group (it comes from the cluster)."""
    return _refers(rule.props.get(prop), _deps(rule, prop), cluster, via=_cluster_groups(cluster))


def _is_group(value: Any, deps: list[PolicyResource], group: PolicyResource) -> bool:
    return _refers(value, deps, group, via=_ident(group, "id"))


def _runner_groups(args: StackValidationArgs, project: PolicyResource) -> list[PolicyResource]:
    vpc = as_dict(project.props.get("vpcConfig"))
    deps = _deps(project, "vpcConfig")
    return [
        g
        for g in resources_of(args, SECURITY_GROUP)
        if _is_group(vpc.get("securityGroupIds"), deps, g)
    ]


def _admitted(args: StackValidationArgs, cluster: PolicyResource, group: PolicyResource) -> bool:
    """The cluster's group admits tcp 443 from ``group``."""
    for rule in resources_of(args, INGRESS):
        if not _https(rule.props) or not _on_cluster_group(rule, cluster):
            continue
        prop = "referencedSecurityGroupId"
        if _is_group(rule.props.get(prop), _deps(rule, prop), group):
            return True
    for rule in resources_of(args, SG_RULE):
        if rule.props.get("type") != "ingress" or not _https(rule.props):
            continue
        prop = "sourceSecurityGroupId"
        if _on_cluster_group(rule, cluster) and _is_group(
            rule.props.get(prop), _deps(rule, prop), group
        ):
            return True
    return False


def _may_send(args: StackValidationArgs, cluster: PolicyResource, group: PolicyResource) -> bool:
    """``group`` lets tcp 443 out to the cluster's group (or to anywhere)."""
    for rule in as_list(group.props.get("egress")):
        rule = as_dict(rule)
        if _https(rule) and "0.0.0.0/0" in as_list(rule.get("cidrBlocks")):
            return True
    for rule in resources_of(args, EGRESS):
        prop = "securityGroupId"
        if not _https(rule.props) or not _is_group(rule.props.get(prop), _deps(rule, prop), group):
            continue
        if rule.props.get("cidrIpv4") == "0.0.0.0/0" or _on_cluster_group(
            rule, cluster, "referencedSecurityGroupId"
        ):
            return True
    return False


def _in_cluster_subnets(project: PolicyResource, cluster: PolicyResource) -> bool:
    runner = as_dict(project.props.get("vpcConfig"))
    theirs = as_dict(cluster.props.get("vpcConfig"))
    mine_deps = {d.urn for d in _deps(project, "vpcConfig") if d.resource_type == SUBNET}
    their_deps = {d.urn for d in _deps(cluster, "vpcConfig") if d.resource_type == SUBNET}
    if mine_deps:
        return mine_deps <= their_deps
    subnets = [s for s in as_list(runner.get("subnets")) if isinstance(s, str)]
    return bool(subnets) and set(subnets) <= set(as_list(theirs.get("subnetIds")))


def _role_of(args: StackValidationArgs, project: PolicyResource) -> PolicyResource | None:
    prop = "serviceRole"
    for role in resources_of(args, ROLE):
        if _refers(project.props.get(prop), _deps(project, prop), role, via=_ident(role, "arn")):
            return role
    return None


def _on_cluster(r: PolicyResource, cluster: PolicyResource) -> bool:
    prop = "clusterName"
    return _refers(r.props.get(prop), _deps(r, prop), cluster, via=_ident(cluster, "name"))


def _has_access(args: StackValidationArgs, cluster: PolicyResource, role: PolicyResource) -> bool:
    prop, via = "principalArn", _ident(role, "arn")

    def for_role(r: PolicyResource) -> bool:
        return _on_cluster(r, cluster) and _refers(r.props.get(prop), _deps(r, prop), role, via=via)

    entry = any(for_role(r) for r in resources_of(args, ACCESS_ENTRY))
    policy = any(for_role(r) for r in resources_of(args, ACCESS_POLICY))
    return entry and policy


def _runner_problem(
    args: StackValidationArgs, cluster: PolicyResource, project: PolicyResource
) -> str | None:
    """Why ``project`` is not a runner that reaches ``cluster``'s API (None: it is)."""
    name = project.props.get("name") or project.name
    if not as_dict(project.props.get("vpcConfig")):
        return f"CodeBuild project '{name}' has no vpcConfig (it runs outside the VPC)"
    if not _in_cluster_subnets(project, cluster):
        return f"CodeBuild project '{name}' is not in the cluster's subnets"
    groups = _runner_groups(args, project)
    if not groups:
        return f"CodeBuild project '{name}' has no security group of this stack"
    if not any(_admitted(args, cluster, g) for g in groups):
        return (
            f"the cluster's security group has no tcp 443 ingress rule from the security "
            f"group of CodeBuild project '{name}'"
        )
    if not any(_may_send(args, cluster, g) for g in groups):
        return f"the security group of CodeBuild project '{name}' allows no tcp 443 egress"
    role = _role_of(args, project)
    if role is None:
        return f"the role of CodeBuild project '{name}' is not in the stack"
    if not _has_access(args, cluster, role):
        return (
            f"the role of CodeBuild project '{name}' has no EKS access entry with an access "
            "policy on the cluster"
        )
    return None


def _check_reachability(args: StackValidationArgs, report: ReportViolation) -> None:
    written = [r for r in args.resources if _is_kubernetes(r)]
    if not written:
        return
    clusters = resources_of(args, CLUSTER)
    if not clusters:
        # a cluster the stack does not create: its endpoint, CIDRs and security groups are
        # not in the plan, so nothing here can show the path (fail closed)
        first = written[0]
        report(
            f"the stack writes Kubernetes objects ({first.resource_type} '{first.name}', ...) "
            "into a cluster it does not create: the plan cannot show how the deployer reaches "
            "its API.",
            first.urn,
        )
        return
    for cluster in clusters:
        name = cluster.props.get("name") or cluster.name
        public, too_open = _public_route(cluster)
        for problem in too_open:
            report(
                f"EKS cluster '{name}': public API endpoint: {problem}; list the "
                "deployers' own CIDRs (at least /16, less than a /8 together).",
                cluster.urn,
            )
        if public and not too_open:
            continue
        runner_problems = [
            problem
            for project in resources_of(args, PROJECT)
            if (problem := _runner_problem(args, cluster, project)) is not None
        ]
        if len(runner_problems) < len(resources_of(args, PROJECT)):
            continue  # a runner reaches the API
        why = "; ".join(runner_problems) or "the stack has no runner in the VPC"
        if not public:
            report(
                f"EKS cluster '{name}': the API endpoint is private and nothing shows how the "
                f"deployer reaches it ({why}).",
                cluster.urn,
            )


POLICIES: list[Policy] = [
    stack_policy(
        "eks-deployer-reaches-api",
        "A stack that writes Kubernetes objects shows how its deployer reaches the EKS API of "
        "a cluster it creates: a public endpoint limited to non-open CIDRs, or a runner in the "
        "cluster's subnets admitted on 443 by the cluster's security group, with an access "
        "entry for its role.",
        _check_reachability,
        # access entries are read for existence only: who may authenticate stays a gap
        types=(CLUSTER, PROJECT, SECURITY_GROUP, INGRESS, EGRESS, SG_RULE),
        remediation="Deploy through the in-VPC runner (deployer.runner: codebuild), or set "
        "cluster.endpoint_public_access with the deployers' own public_access_cidrs.",
    ),
]
