"""Network: no ingress from the whole internet except HTTPS to load balancers; VPC hygiene.

A security group is a *load-balancer* security group when it carries the tag
``role: load-balancer`` (descriptions are free text and are not trusted). Standalone
rules (``aws:vpc/securityGroupIngressRule``, ``aws:ec2/securityGroupRule``) inherit that
from the group they attach to (linked by the ``securityGroupId`` property dependency, or
by an equal id), or carry the tag themselves. That is why the ingress rule is a stack
policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Policy, PolicyResource, ReportViolation, StackValidationArgs

from .common import as_dict, as_int, as_list, resource_policy, resources_of, stack_policy, tags_of

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
LB_TAG = ("role", "load-balancer")
OPEN = ("0.0.0.0/0", "::/0")
HTTPS = 443


def is_load_balancer(resource: PolicyResource) -> bool:
    """True when the resource is tagged role=load-balancer."""
    key, value = LB_TAG
    return tags_of(resource.props).get(key) == value


def _https_only(from_port: Any, to_port: Any, protocol: Any) -> bool:
    return (as_int(from_port) == HTTPS and as_int(to_port) == HTTPS
            and str(protocol).lower() in ("tcp", "6"))


def _ports(from_port: Any, to_port: Any, protocol: Any) -> str:
    if str(protocol) == "-1":
        return "all traffic"
    return f"{protocol} {as_int(from_port)}-{as_int(to_port)}"


def _group_of(args: StackValidationArgs, rule: PolicyResource) -> PolicyResource | None:
    deps = rule.property_dependencies.get("securityGroupId") or []
    for dep in deps:
        if dep.resource_type == SECURITY_GROUP:
            return dep
    group_id = rule.props.get("securityGroupId")
    for group in resources_of(args, SECURITY_GROUP):
        if group_id is not None and group.props.get("id") == group_id:
            return group
    return None


def _check_open(
    report: ReportViolation, urn: str, lb: bool, cidrs: list[Any], ports: Mapping[str, Any]
) -> None:
    for cidr in cidrs:
        if cidr not in OPEN:
            continue
        if lb and _https_only(ports.get("fromPort"), ports.get("toPort"), ports.get("protocol")):
            continue
        where = "a load-balancer group" if lb else "a group not tagged role=load-balancer"
        shown = _ports(ports.get("fromPort"), ports.get("toPort"), ports.get("protocol"))
        report(f"Ingress from {cidr} to {shown} on {where}; only tcp 443 to load balancers "
               "may be open to the internet.", urn)


def _check_ingress(args: StackValidationArgs, report: ReportViolation) -> None:
    for group in resources_of(args, SECURITY_GROUP):
        lb = is_load_balancer(group)
        for rule in as_list(group.props.get("ingress")):
            rule = as_dict(rule)
            cidrs = as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))
            _check_open(report, group.urn, lb, cidrs, rule)
    for rule in resources_of(args, INGRESS_RULE):
        target = _group_of(args, rule)
        lb = is_load_balancer(rule) or (target is not None and is_load_balancer(target))
        props = rule.props
        cidrs = [props.get("cidrIpv4"), props.get("cidrIpv6")]
        ports = {"fromPort": props.get("fromPort"), "toPort": props.get("toPort"),
                 "protocol": props.get("ipProtocol")}
        _check_open(report, rule.urn, lb, cidrs, ports)
    for rule in resources_of(args, SG_RULE):
        if rule.props.get("type") != "ingress":
            continue
        target = _group_of(args, rule)
        lb = target is not None and is_load_balancer(target)
        cidrs = as_list(rule.props.get("cidrBlocks")) + as_list(rule.props.get("ipv6CidrBlocks"))
        _check_open(report, rule.urn, lb, cidrs, rule.props)


def _check_flow_logs(args: StackValidationArgs, report: ReportViolation) -> None:
    logs = resources_of(args, "aws:ec2/flowLog:FlowLog")
    for vpc in resources_of(args, "aws:ec2/vpc:Vpc"):
        linked = any(
            any(d.urn == vpc.urn for d in (log.property_dependencies.get("vpcId") or []))
            or (vpc.props.get("id") is not None and log.props.get("vpcId") == vpc.props.get("id"))
            for log in logs
        )
        if not linked:
            report(f"VPC '{vpc.name}' has no flow log.", vpc.urn)


def _check_default_sg(args: Any, report: ReportViolation) -> None:
    for direction in ("ingress", "egress"):
        if as_list(args.props.get(direction)):
            report(f"The default security group has {direction} rules; it must allow nothing.",
                   None)


POLICIES: list[Policy] = [
    stack_policy(
        "security-group-no-public-ingress",
        "Security groups admit nothing from 0.0.0.0/0 or ::/0, except tcp 443 to security "
        "groups tagged role=load-balancer.",
        _check_ingress,
        remediation="Narrow the CIDR, or tag the load balancer's group role=load-balancer "
        "and open only 443.",
    ),
    stack_policy("vpc-flow-logs", "Every VPC has a flow log.", _check_flow_logs),
    resource_policy(
        "default-security-group-closed",
        "The VPC's default security group has no rules (CIS AWS 5.4).",
        ("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",),
        _check_default_sg,
    ),
]
