"""Network: what security groups admit from and send to the internet; VPC hygiene.

"The internet" is address coverage (`cidrs`): ``0.0.0.0/1`` + ``128.0.0.0/1``, or a few
hundred /8s, are as open as ``0.0.0.0/0``. Every shape a security-group rule takes is
read: a group's inline ``ingress``/``egress``, ``aws.vpc.SecurityGroupIngressRule`` /
``SecurityGroupEgressRule`` and ``aws.ec2.SecurityGroupRule``; CIDRs, IPv6 CIDRs and
managed prefix lists (expanded when the list is in the plan). Ranges of one group are
judged together, so an opening split across rules is one opening. A source or
destination the pack cannot read (a secret, an unknown, a prefix list outside the plan)
is a violation that says so.

* **Ingress** from the internet: only tcp 443, and only to a group used by load
  balancers alone: a group an ``aws.lb``/``aws.alb``/``aws.elb`` LoadBalancer of the
  plan lists in ``securityGroups`` and that nothing else uses. A tag or description a
  group gives itself does not count.
* **Egress** to the internet: only tcp 443. What the platform's nodes and pods need out
  there is HTTPS (AWS APIs, ECR, S3, the image registries, OIDC issuers); DNS goes to
  the VPC resolver and NTP to the link-local Amazon Time Sync, neither on the internet.
  The platform's own groups (databases, cache, endpoints) declare no egress at all
  (pulumi-aws removes the allow-all rule AWS adds to a new group).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import Policy, PolicyResource, ReportViolation, StackValidationArgs

from .cidrs import is_public, open_problem, opening, parse
from .common import SECRET, as_dict, as_int, as_list, resource_policy, resources_of, stack_policy

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
RULE_TYPES = (INGRESS_RULE, EGRESS_RULE, SG_RULE)
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer",
                  "aws:elb/loadBalancer:LoadBalancer")
HTTPS = 443
ALL_PROTOCOLS = ("-1", "all")


@dataclass
class Entry:
    """One rule of a group: who declared it, which way, which ports, which ranges."""

    urn: str
    direction: str
    protocol: Any
    from_port: Any
    to_port: Any
    cidrs: list[Any] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)  # what the pack cannot read

    def https_only(self) -> bool:
        return (as_int(self.from_port) == HTTPS and as_int(self.to_port) == HTTPS
                and _protocol(self.protocol) in ("tcp", "6"))

    def ports(self) -> str:
        protocol = _protocol(self.protocol)
        if protocol in ALL_PROTOCOLS:
            return "all traffic"
        low, high = as_int(self.from_port), as_int(self.to_port)
        return f"{protocol} {low}" if low == high else f"{protocol} {low}-{high}"


def _protocol(value: Any) -> str:
    text = str(value).strip().lower()
    return "-1" if text in ("-1", "-1.0", "all") else text.removesuffix(".0")


def _resource_id(resource: PolicyResource) -> str | None:
    value = resource.props.get("id")
    return value if isinstance(value, str) and value and value != SECRET else None


def _linked(args: StackValidationArgs, resource: PolicyResource, key: str,
            types: tuple[str, ...]) -> list[PolicyResource]:
    """Resources of ``types`` that ``resource.key`` names: by property dependency, else by id."""
    deps = [d for d in resource.property_dependencies.get(key) or []
            if d.resource_type in types]
    if deps:
        return deps
    values = {v for v in as_list(resource.props.get(key)) if isinstance(v, str)}
    return [r for r in resources_of(args, *types) if _resource_id(r) in values]


def _prefix_list_cidrs(args: StackValidationArgs, resource: PolicyResource, key: str,
                       values: list[Any]) -> tuple[list[Any], list[str]]:
    """CIDRs of the managed prefix lists ``values`` (from ``resource.key``); and the lists
    the plan does not hold (their entries cannot be seen)."""
    if not values:
        return [], []
    lists = _linked(args, resource, key, (PREFIX_LIST,))
    if len(lists) < len(values):
        return [], [f"prefix list {v}" for v in values]
    cidrs: list[Any] = []
    for pl in lists:
        cidrs += [as_dict(e).get("cidr") for e in as_list(pl.props.get("entries"))]
        for entry in resources_of(args, PREFIX_LIST_ENTRY):
            if pl in _linked(args, entry, "prefixListId", (PREFIX_LIST,)):
                cidrs.append(entry.props.get("cidr"))
    return cidrs, []


def _entry(args: StackValidationArgs, resource: PolicyResource, direction: str,
           rule: Mapping[str, Any], *, protocol_key: str, cidr_keys: tuple[str, ...],
           prefix_key: str) -> Entry:
    entry = Entry(resource.urn, direction, rule.get(protocol_key), rule.get("fromPort"),
                  rule.get("toPort"))
    for key in cidr_keys:
        entry.cidrs += as_list(rule.get(key))
    lists, unseen = _prefix_list_cidrs(args, resource, prefix_key, as_list(rule.get(prefix_key)))
    entry.cidrs += lists
    entry.unseen += unseen
    readable = []
    for value in entry.cidrs:
        if parse(value) is None:
            entry.unseen.append(f"range {value!r}")
        else:
            readable.append(value)
    entry.cidrs = readable
    return entry


def _entries(args: StackValidationArgs) -> Iterator[tuple[str, PolicyResource | None, Entry]]:
    """(group key, group resource or None, entry) of every security-group rule."""
    for group in resources_of(args, SECURITY_GROUP):
        for direction in ("ingress", "egress"):
            for rule in as_list(group.props.get(direction)):
                yield group.urn, group, _entry(
                    args, group, direction, as_dict(rule), protocol_key="protocol",
                    cidr_keys=("cidrBlocks", "ipv6CidrBlocks"), prefix_key="prefixListIds")
    for rule in resources_of(args, *RULE_TYPES):
        groups = _linked(args, rule, "securityGroupId", (SECURITY_GROUP,))
        target = groups[0] if groups else None
        group_id = rule.props.get("securityGroupId")
        key = target.urn if target else (
            f"id:{group_id}" if isinstance(group_id, str) and group_id != SECRET else rule.urn)
        if rule.resource_type == SG_RULE:
            direction = rule.props.get("type")
            entry = _entry(args, rule, str(direction), rule.props, protocol_key="protocol",
                           cidr_keys=("cidrBlocks", "ipv6CidrBlocks"),
                           prefix_key="prefixListIds")
            if direction not in ("ingress", "egress"):
                entry.unseen.append(f"direction (type {direction!r})")
        else:
            direction = "ingress" if rule.resource_type == INGRESS_RULE else "egress"
            entry = _entry(args, rule, direction, rule.props, protocol_key="ipProtocol",
                           cidr_keys=("cidrIpv4", "cidrIpv6"), prefix_key="prefixListId")
        yield key, target, entry


def load_balancer_groups(args: StackValidationArgs) -> set[str]:
    """URNs of the groups used by the plan's load balancers and by nothing else."""
    used_by_lb: set[str] = set()
    for lb in resources_of(args, *LOAD_BALANCERS):
        used_by_lb |= {g.urn for g in _linked(args, lb, "securityGroups", (SECURITY_GROUP,))}
    if not used_by_lb:
        return set()
    ids = {_resource_id(g): g.urn for g in resources_of(args, SECURITY_GROUP)
           if g.urn in used_by_lb and _resource_id(g)}
    elsewhere: set[str] = set()
    ignored = (*LOAD_BALANCERS, SECURITY_GROUP, *RULE_TYPES)
    for res in args.resources:
        if res.resource_type in ignored:
            continue
        elsewhere |= {d.urn for d in res.dependencies if d.urn in used_by_lb}
        elsewhere |= {ids[v] for v in _strings(res.props) if v in ids}
    return used_by_lb - elsewhere


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, Sequence):
        for v in value:
            yield from _strings(v)


def _label(key: str, group: PolicyResource | None) -> str:
    if group is not None:
        name = group.props.get("name")
        return f"group '{name if isinstance(name, str) else group.name}'"
    return f"group '{key[3:]}'" if key.startswith("id:") else "an unknown group"


def _applies(entry: Entry, direction: str) -> bool:
    if entry.direction in ("ingress", "egress"):
        return entry.direction == direction
    return direction == "ingress"  # a rule whose direction is unknown is judged as ingress


def _check_direction(args: StackValidationArgs, report: ReportViolation, direction: str) -> None:
    lb_groups = load_balancer_groups(args) if direction == "ingress" else set()
    by_group: dict[str, tuple[PolicyResource | None, list[Entry]]] = {}
    for key, group, entry in _entries(args):
        if _applies(entry, direction):
            by_group.setdefault(key, (group, []))[1].append(entry)
    for key, (group, entries) in by_group.items():
        label = _label(key, group)
        urn = group.urn if group is not None else entries[0].urn
        for entry in entries:
            if entry.unseen:
                report(f"A {direction} rule of {label} names {', '.join(entry.unseen)} that the "
                       "pack cannot see: it cannot be checked.", entry.urn)
        exempt = [e for e in entries if e.https_only() and (
            direction == "egress" or key in lb_groups)]
        counted = [e for e in entries if e not in exempt]
        public = list(dict.fromkeys(c for e in counted for c in e.cidrs if is_public(c)))
        problem = open_problem(public)
        if problem is None:
            continue
        named = set(opening(public))
        ports = sorted({e.ports() for e in counted if named & set(e.cidrs)})
        if direction == "ingress":
            report(f"Ingress to {label} on {', '.join(ports)}: {problem}; only tcp 443 to a group "
                   "used by load balancers alone may be open to the internet.", urn)
        else:
            report(f"Egress from {label} on {', '.join(ports)}: {problem}; only tcp 443 (HTTPS "
                   "to AWS APIs and registries) may go to the internet.", urn)


def _check_ingress(args: StackValidationArgs, report: ReportViolation) -> None:
    _check_direction(args, report, "ingress")


def _check_egress(args: StackValidationArgs, report: ReportViolation) -> None:
    _check_direction(args, report, "egress")


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
        "Security groups admit nothing from the internet (0.0.0.0/0, ::/0 or ranges that "
        "together cover as much), except tcp 443 to groups used by load balancers alone.",
        _check_ingress,
        remediation="Narrow the ranges to the networks that need access; put internet "
        "traffic behind a load balancer whose own group opens only 443.",
    ),
    stack_policy(
        "security-group-no-public-egress",
        "Security groups send nothing to the internet (0.0.0.0/0, ::/0 or ranges that "
        "together cover as much) except HTTPS (tcp 443).",
        _check_egress,
        remediation="Restrict egress to tcp 443, or to the VPC and the AWS service prefix "
        "lists the workload needs.",
    ),
    stack_policy("vpc-flow-logs", "Every VPC has a flow log.", _check_flow_logs),
    resource_policy(
        "default-security-group-closed",
        "The VPC's default security group has no rules (CIS AWS 5.4).",
        ("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",),
        _check_default_sg,
    ),
]
