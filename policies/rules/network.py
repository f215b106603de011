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

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import Policy, PolicyResource, ReportViolation, StackValidationArgs

from .cidrs import is_open, is_public, open_problem, opening, parse
from .common import (
    SECRET,
    as_dict,
    as_int,
    as_list,
    config,
    get,
    resource_policy,
    resources_of,
    stack_policy,
)
from .k8s import Object, PodSpec, hidden, objects, pod_labels, pod_specs, selects

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
RULE_TYPES = (INGRESS_RULE, EGRESS_RULE, SG_RULE)
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
LOAD_BALANCERS = (
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:alb/loadBalancer:LoadBalancer",
    "aws:elb/loadBalancer:LoadBalancer",
)
HTTPS = 443
ALL_PROTOCOLS = ("-1", "all")
# `mlflow server` / `mlflow ui`, or its app under gunicorn/uvicorn (mlflow.server:app)
MLFLOW_SERVER = re.compile(r"\bmlflow\s+(server|ui)\b|\bmlflow\.server(\.[A-Za-z_]+)*:[A-Za-z_]")
APP_NAME = re.compile(r"--app-name(?:=|\s+)(\S+)")
DEFAULT_AUTH_APPS = ["basic-auth"]


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
        return (
            as_int(self.from_port) == HTTPS
            and as_int(self.to_port) == HTTPS
            and _protocol(self.protocol) in ("tcp", "6")
        )

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


def _linked(
    args: StackValidationArgs, resource: PolicyResource, key: str, types: tuple[str, ...]
) -> list[PolicyResource]:
    """Resources of ``types`` that ``resource.key`` names: by property dependency, else by id."""
    deps = [d for d in resource.property_dependencies.get(key) or [] if d.resource_type in types]
    if deps:
        return deps
    values = {v for v in as_list(resource.props.get(key)) if isinstance(v, str)}
    return [r for r in resources_of(args, *types) if _resource_id(r) in values]


def _prefix_list_cidrs(
    args: StackValidationArgs, resource: PolicyResource, key: str, values: list[Any]
) -> tuple[list[Any], list[str]]:
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


def _entry(
    args: StackValidationArgs,
    resource: PolicyResource,
    direction: str,
    rule: Mapping[str, Any],
    *,
    protocol_key: str,
    cidr_keys: tuple[str, ...],
    prefix_key: str,
) -> Entry:
    entry = Entry(
        resource.urn, direction, rule.get(protocol_key), rule.get("fromPort"), rule.get("toPort")
    )
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
                yield (
                    group.urn,
                    group,
                    _entry(
                        args,
                        group,
                        direction,
                        as_dict(rule),
                        protocol_key="protocol",
                        cidr_keys=("cidrBlocks", "ipv6CidrBlocks"),
                        prefix_key="prefixListIds",
                    ),
                )
    for rule in resources_of(args, *RULE_TYPES):
        groups = _linked(args, rule, "securityGroupId", (SECURITY_GROUP,))
        target = groups[0] if groups else None
        group_id = rule.props.get("securityGroupId")
        key = (
            target.urn
            if target
            else (
                f"id:{group_id}" if isinstance(group_id, str) and group_id != SECRET else rule.urn
            )
        )
        if rule.resource_type == SG_RULE:
            direction = rule.props.get("type")
            entry = _entry(
                args,
                rule,
                str(direction),
                rule.props,
                protocol_key="protocol",
                cidr_keys=("cidrBlocks", "ipv6CidrBlocks"),
                prefix_key="prefixListIds",
            )
            if direction not in ("ingress", "egress"):
                entry.unseen.append(f"direction (type {direction!r})")
        else:
            direction = "ingress" if rule.resource_type == INGRESS_RULE else "egress"
            entry = _entry(
                args,
                rule,
                direction,
                rule.props,
                protocol_key="ipProtocol",
                cidr_keys=("cidrIpv4", "cidrIpv6"),
                prefix_key="prefixListId",
            )
        yield key, target, entry


def load_balancer_groups(args: StackValidationArgs) -> set[str]:
    """URNs of the groups used by the plan's load balancers and by nothing else."""
    used_by_lb: set[str] = set()
    for lb in resources_of(args, *LOAD_BALANCERS):
        used_by_lb |= {g.urn for g in _linked(args, lb, "securityGroups", (SECURITY_GROUP,))}
    if not used_by_lb:
        return set()
    ids = {
        _resource_id(g): g.urn
        for g in resources_of(args, SECURITY_GROUP)
        if g.urn in used_by_lb and _resource_id(g)
    }
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
                report(
                    f"A {direction} rule of {label} names {', '.join(entry.unseen)} that the "
                    "pack cannot see: it cannot be checked.",
                    entry.urn,
                )
        exempt = [
            e for e in entries if e.https_only() and (direction == "egress" or key in lb_groups)
        ]
        counted = [e for e in entries if e not in exempt]
        public = list(dict.fromkeys(c for e in counted for c in e.cidrs if is_public(c)))
        problem = open_problem(public)
        if problem is None:
            continue
        named = set(opening(public))
        ports = sorted({e.ports() for e in counted if named & set(e.cidrs)})
        if direction == "ingress":
            report(
                f"Ingress to {label} on {', '.join(ports)}: {problem}; only tcp 443 to a group "
                "used by load balancers alone may be open to the internet.",
                urn,
            )
        else:
            report(
                f"Egress from {label} on {', '.join(ports)}: {problem}; only tcp 443 (HTTPS "
                "to AWS APIs and registries) may go to the internet.",
                urn,
            )


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
            report(
                f"The default security group has {direction} rules; it must allow nothing.", None
            )


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
        types=(SECURITY_GROUP, EGRESS_RULE, SG_RULE, PREFIX_LIST, PREFIX_LIST_ENTRY),
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


# ------------------------------------------------------------------ Kubernetes
# NetworkPolicies, and what the internet reaches through load balancers.

NAMESPACE = "Namespace"
# A LoadBalancer Service is internet-facing unless it says internal: the in-tree
# controller's default is internet-facing, and the AWS Load Balancer Controller's
# IngressClassParams / defaults live outside the plan.
LB_SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
LB_INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"
LB_SOURCE_RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges"
ALB_SCHEME = "alb.ingress.kubernetes.io/scheme"
ALB_INBOUND = "alb.ingress.kubernetes.io/inbound-cidrs"
ALB_AUTH = "alb.ingress.kubernetes.io/auth-type"
ALB_UNAUTHENTICATED = "alb.ingress.kubernetes.io/auth-on-unauthenticated-request"
NGINX_AUTH = "nginx.ingress.kubernetes.io/auth-url"


@dataclass(frozen=True)
class Placed:
    """A Kubernetes object of the stack and the resource that declares it."""

    resource: PolicyResource
    obj: Object

    @property
    def namespace(self) -> str | None:
        return namespace_of(self.obj)


def namespace_of(obj: Object) -> str | None:
    """The object's namespace ('default' when unset); None when it cannot be seen."""
    ns = obj.namespace
    if ns is None:
        return "default"
    return ns if isinstance(ns, str) and not hidden(ns) else None


_STACK: list[Any] = [None, None]  # (resources list, its objects): stack policies share it


def stack_objects(args: StackValidationArgs) -> list[Placed]:
    """Every Kubernetes object of the stack, yaml groups expanded (computed once for the
    resource list every stack policy of one evaluation receives)."""
    if _STACK[0] is not args.resources:
        _STACK[:] = [
            args.resources,
            [
                Placed(r, o)
                for r in args.resources
                for o in objects(r.resource_type, r.name, r.props)
            ],
        ]
    return list(_STACK[1])


def _is_all_pods(selector: Any) -> bool:
    return (
        isinstance(selector, Mapping)
        and not as_dict(selector.get("matchLabels"))
        and not as_list(selector.get("matchExpressions"))
        and all(k in ("matchLabels", "matchExpressions") for k in selector)
    )


def _types(policy: Object) -> list[str] | None:
    """A NetworkPolicy's policyTypes (unset: Ingress, plus Egress when it has egress rules)."""
    value = get(policy.props, "spec", "policyTypes")
    if value is None:
        return ["Ingress", *(["Egress"] if get(policy.props, "spec", "egress") else [])]
    if isinstance(value, str) or not isinstance(value, Sequence):
        return None
    return [str(t) for t in value]


def policies_in(
    placed: list[Placed], namespace: str, ns_resource: PolicyResource | None = None
) -> list[Placed]:
    """NetworkPolicies of a namespace (by name, or by a dependency on its Namespace)."""
    out = []
    for p in placed:
        if p.obj.kind != "NetworkPolicy" or p.obj.group != "networking.k8s.io":
            continue
        if p.namespace == namespace:
            out.append(p)
            continue
        linked = (
            ns_resource is not None
            and not p.obj.source
            and any(
                d.urn == ns_resource.urn
                for d in p.resource.property_dependencies.get("metadata") or []
            )
        )
        if linked:
            out.append(p)
    return out


def ingress_policies_for(
    placed: list[Placed], namespace: str, labels: Mapping[str, Any]
) -> tuple[list[Placed], list[str]]:
    """The Ingress NetworkPolicies that select pods with ``labels``, and the policies the
    pack cannot read."""
    selecting, unseen = [], []
    for p in policies_in(placed, namespace):
        types = _types(p.obj)
        chosen = selects(get(p.obj.props, "spec", "podSelector"), labels)
        if types is None or chosen is None:
            unseen.append(f"NetworkPolicy '{p.obj.name}'")
        elif chosen and "Ingress" in types:
            selecting.append(p)
    return selecting, unseen


def _check_namespace_policies(args: StackValidationArgs, report: ReportViolation) -> None:
    placed = stack_objects(args)
    netpols = [p for p in placed if p.obj.kind == "NetworkPolicy"]
    for ns in placed:
        if ns.obj.kind != NAMESPACE or ns.obj.group not in ("", "core"):
            continue
        name = ns.obj.name
        if name is not None and (not isinstance(name, str) or hidden(name)):
            report(
                f"{ns.obj.prefix()}Namespace name cannot be seen ({name!r}): its "
                "NetworkPolicies cannot be matched.",
                ns.resource.urn,
            )
            continue
        shown = name if name is not None else ns.resource.name
        isolated = False
        for p in policies_in(netpols, str(name), ns.resource if not ns.obj.source else None):
            types = _types(p.obj)
            if (
                types is not None
                and "Ingress" in types
                and _is_all_pods(get(p.obj.props, "spec", "podSelector"))
            ):
                isolated = True
                break
        if not isolated:
            report(
                f"{ns.obj.prefix()}Namespace '{shown}' has no NetworkPolicy selecting every "
                "pod for ingress (podSelector: {}, policyTypes: [Ingress]): any pod in the "
                "cluster can reach its pods.",
                ns.resource.urn,
            )
    # an allow of any source on any port undoes the isolation, wherever it is declared
    for p in placed:
        if p.obj.kind != "NetworkPolicy" or p.obj.group != "networking.k8s.io":
            continue
        types = _types(p.obj) or ["Ingress"]
        rules = as_list(get(p.obj.props, "spec", "ingress")) if "Ingress" in types else []
        if any(_admits_everything(rule) for rule in rules):
            report(
                f"{p.obj.prefix()}NetworkPolicy '{p.namespace}/{p.obj.name}' admits any "
                "source on any port: the pods it selects are not isolated.",
                p.resource.urn,
            )


def _admits_everything(rule: Any) -> bool:
    """True when an ingress rule admits every source on every port."""
    if not isinstance(rule, Mapping):
        return True  # unreadable: cannot show it is narrower
    if as_list(rule.get("ports")):
        return False
    peers = as_list(rule.get("from"))
    if not peers:
        return True
    blocks = [get(peer, "ipBlock", "cidr") for peer in peers if isinstance(peer, Mapping)]
    if is_open([b for b in blocks if b is not None]):
        return True
    for peer in peers:
        if not isinstance(peer, Mapping):
            return True
        if (
            "namespaceSelector" in peer
            and _is_all_pods(peer.get("namespaceSelector"))
            and (peer.get("podSelector") is None or _is_all_pods(peer.get("podSelector")))
        ):
            return True
    return False


# ---- what authenticates a public endpoint

# the authenticating proxies the pack recognises (repository, any tag or digest)
AUTH_PROXY_IMAGES = ("quay.io/oauth2-proxy/oauth2-proxy",)
# oauth2-proxy settings that let requests through unauthenticated
SKIP_AUTH = (
    "--skip-auth-regex",
    "--skip-auth-route",
    "--skip-auth-routes",
    "--trusted-ip",  # requests from these addresses skip authentication
    "OAUTH2_PROXY_SKIP_AUTH_REGEX",
    "OAUTH2_PROXY_SKIP_AUTH_ROUTES",
    "OAUTH2_PROXY_TRUSTED_IPS",
    # settings read from where the plan does not show them (a config file, whole
    # ConfigMaps or Secrets as environment): they may skip authentication as well
    "--config",
    "--alpha-config",
    "OAUTH2_PROXY_CONFIG",
)


def _command_text(container: Mapping[str, Any]) -> str:
    """Command, args and environment values: what a container runs, however it is spelled
    (a shell line reading a variable included)."""
    env = [f"{get(e, 'name')}={get(e, 'value')}" for e in as_list(container.get("env"))]
    return " ".join(
        str(x) for x in [*as_list(container.get("command")), *as_list(container.get("args")), *env]
    )


def mlflow_server(container: Mapping[str, Any]) -> bool:
    """True when the container runs an MLflow tracking server (`mlflow server`, `mlflow
    ui`, or its WSGI/ASGI app under gunicorn or uvicorn)."""
    return bool(MLFLOW_SERVER.search(_command_text(container)))


def mlflow_auth_app(container: Mapping[str, Any], apps: Sequence[str]) -> bool:
    """True when the MLflow server starts with one of the auth ``apps`` (--app-name): read
    from the command line only, where the server reads it."""
    text = " ".join(
        str(x) for x in [*as_list(container.get("command")), *as_list(container.get("args"))]
    )
    if "mlflow.server.auth" in text:
        return True  # the basic-auth app itself, served directly
    values = [m.group(1) for m in APP_NAME.finditer(text)]
    return bool(values) and values[-1] in apps


def auth_proxy(container: Mapping[str, Any]) -> bool:
    """True when the container is oauth2-proxy (its official image) and lets nothing
    through unauthenticated."""
    image = container.get("image")
    if not isinstance(image, str):
        return False
    repo = image.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo.rsplit(":", 1)[0]
    text = _command_text(container)
    return (
        repo in AUTH_PROXY_IMAGES
        and not any(flag in text for flag in SKIP_AUTH)
        and not as_list(container.get("envFrom"))
    )


def authenticates(pod: PodSpec, apps: Sequence[str]) -> bool:
    """True when a pod authenticates what it serves: an auth proxy, or MLflow with auth."""
    for c in pod.containers:
        if c.init:
            continue
        if auth_proxy(c.spec) or (mlflow_server(c.spec) and mlflow_auth_app(c.spec, apps)):
            return True
    return False


def backend_pods(
    placed: list[Placed], namespace: str, selector: Any
) -> list[tuple[Placed, PodSpec]] | None:
    """Pods of the stack's workloads in ``namespace`` a Service selector picks; None when
    the selector cannot be read."""
    if not isinstance(selector, Mapping) or not selector:
        return None
    out = []
    for p in placed:
        if p.namespace != namespace:
            continue
        labels = pod_labels(p.obj)
        pods = pod_specs(p.obj)
        if pods and labels and selects(dict(selector), labels):
            out += [(p, pod) for pod in pods]
    return out


def _annotations(obj: Object) -> Mapping[str, Any]:
    return as_dict(get(obj.props, "metadata", "annotations"))


def _public_service(obj: Object) -> str | None:
    """Why a Service is reachable from the internet, or None."""
    external = [str(ip) for ip in as_list(get(obj.props, "spec", "externalIPs"))]
    if any(is_public(ip) or parse(ip) is None for ip in external):
        return f"externalIPs {', '.join(external)}"
    if get(obj.props, "spec", "type") != "LoadBalancer":
        return None
    notes = _annotations(obj)
    # The AWS Load Balancer Controller (whose webhook takes every LoadBalancer Service on
    # this platform) reads the scheme annotation first and the legacy `internal` one only
    # without it: `internal: "true"` beside `scheme: internet-facing` is internet-facing.
    if LB_SCHEME in notes:
        if str(notes.get(LB_SCHEME, "")).lower() == "internal":
            return None
    elif str(notes.get(LB_INTERNAL, "")).lower() in ("true", "0.0.0.0/0"):
        return None
    ranges = as_list(get(obj.props, "spec", "loadBalancerSourceRanges")) or [
        r.strip() for r in str(notes.get(LB_SOURCE_RANGES, "")).split(",") if r.strip()
    ]
    if ranges and all(parse(r) is not None for r in ranges) and not open_problem(ranges):
        return None
    return "type LoadBalancer, not internal" + (
        f", source ranges {', '.join(str(r) for r in ranges)}" if ranges else ""
    )


def _public_ingress(obj: Object) -> str | None:
    notes = _annotations(obj)
    if str(notes.get(ALB_SCHEME, "")).lower() == "internal":
        return None
    ranges = [r.strip() for r in str(notes.get(ALB_INBOUND, "")).split(",") if r.strip()]
    if ranges and all(parse(r) is not None for r in ranges) and not open_problem(ranges):
        return None
    return "an Ingress not marked internal"


def _ingress_backends(obj: Object) -> list[tuple[Any, Any]]:
    """(Service name, its port by number or name) an Ingress routes to; the name is None
    for a backend that is not a Service."""
    spec = as_dict(obj.props.get("spec"))
    backends = [spec.get("defaultBackend")] if spec.get("defaultBackend") is not None else []
    for rule in as_list(spec.get("rules")):
        for path in as_list(get(rule, "http", "paths")):
            backends.append(get(path, "backend"))
    return [
        (
            get(b, "service", "name"),
            get(b, "service", "port", "number") or get(b, "service", "port", "name"),
        )
        for b in backends
    ]


GATEWAY_GROUP = "gateway.networking.k8s.io"
ROUTES = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")


def _route_backends(obj: Object) -> list[tuple[Any, Any]]:
    """(Service name, port) a Gateway API route sends to; None for a backend of another
    kind."""
    names = []
    for rule in as_list(get(obj.props, "spec", "rules")):
        for ref in as_list(get(rule, "backendRefs")):
            kind = get(ref, "kind") or "Service"
            names.append((get(ref, "name") if kind == "Service" else None, get(ref, "port")))
    return names


def _target_ports(svc: Object, port: Any) -> list[Any]:
    """The targetPorts behind the Service port ``port`` (its number or name; every port of
    the Service for None): where its traffic lands in the pods."""
    out = []
    for sp in as_list(get(svc.props, "spec", "ports")):
        number, name = as_int(get(sp, "port")), get(sp, "name")
        if port is None or (as_int(port) is not None and as_int(port) == number) or port == name:
            target = get(sp, "targetPort")
            out.append(number if target is None else target)
    return out


def _serving(pod: PodSpec, target: Any) -> list[Mapping[str, Any]] | None:
    """The containers of ``pod`` that receive traffic sent to ``target`` (a port number or
    name); None when the plan cannot tell which (a number no container declares, in a pod
    of several)."""
    containers = [c for c in pod.containers if not c.init]
    number = as_int(target)

    def declares(spec: Mapping[str, Any]) -> bool:
        for declared in as_list(spec.get("ports")):
            if number is not None and as_int(get(declared, "containerPort")) == number:
                return True
            if number is None and isinstance(target, str) and get(declared, "name") == target:
                return True
        return False

    found = [c.spec for c in containers if declares(c.spec)]
    if found:
        return found
    if number is not None and len(containers) == 1:
        return [containers[0].spec]  # a container may listen on a port it does not declare
    return None


def _port(target: Any) -> str:
    """A port as written (numbers reach the pack as floats)."""
    return str(as_int(target) if as_int(target) is not None else target)


def _authenticating(container: Mapping[str, Any], apps: Sequence[str]) -> bool:
    return auth_proxy(container) or (mlflow_server(container) and mlflow_auth_app(container, apps))


def _check_public_endpoints(args: StackValidationArgs, report: ReportViolation) -> None:
    allowed = {str(x) for x in as_list(config(args, "public_services", []))}
    apps = [str(a) for a in as_list(config(args, "mlflow_auth_apps", DEFAULT_AUTH_APPS))]
    placed = stack_objects(args)
    services = [p for p in placed if p.obj.kind == "Service" and p.obj.group in ("", "core")]
    for p in placed:
        obj = p.obj
        if obj.kind == "Service" and obj.group in ("", "core"):
            why = _public_service(obj)
            names: list[tuple[Any, Any]] = [(obj.name, None)]  # every port it exposes
        elif obj.kind == "Ingress" and obj.group in ("networking.k8s.io", "extensions"):
            why = _public_ingress(obj)
            names = _ingress_backends(obj)
            auth = str(_annotations(obj).get(ALB_AUTH, "")).lower()
            # `allow` lets a request without a session through to the backend, signed in
            # or not (the ALB's on-unauthenticated-request action; default authenticate)
            lets_anyone = str(_annotations(obj).get(ALB_UNAUTHENTICATED, "")).lower() == "allow"
            if why and (
                (auth in ("oidc", "cognito") and not lets_anyone)
                or _annotations(obj).get(NGINX_AUTH)
            ):
                continue  # the load balancer / controller signs people in
        elif obj.kind in ROUTES and obj.group == GATEWAY_GROUP:
            # the Gateway's listeners and load balancer are outside what a route shows
            why = "a Gateway API route"
            names = _route_backends(obj)
        else:
            continue
        if why is None or f"{p.namespace}/{obj.name}" in allowed:
            continue
        label = f"{obj.prefix()}{obj.kind} '{p.namespace}/{obj.name}' ({why})"
        problems = []
        for name, port in names:
            if name is None or not isinstance(name, str) or hidden(name):
                problems.append(f"a backend cannot be seen ({name!r})")
                continue
            svc = (
                obj
                if obj.kind == "Service"
                else next(
                    (s.obj for s in services if s.namespace == p.namespace and s.obj.name == name),
                    None,
                )
            )
            if svc is None:
                problems.append(f"its backend Service '{name}' is not in the plan")
                continue
            pods = backend_pods(placed, str(p.namespace), get(svc.props, "spec", "selector"))
            if not pods:
                problems.append(f"Service '{name}' selects no pods the plan shows")
                continue
            targets = _target_ports(svc, port)
            for owner, pod in pods:
                # the container the traffic reaches must authenticate, not only one of
                # the pod's: a Service port aimed past the oauth2-proxy sidecar at the
                # app reaches the app unauthenticated
                serving = [_serving(pod, t) for t in targets]
                if not targets or not authenticates(pod, apps):
                    problems.append(
                        f"{owner.obj.kind} '{owner.obj.name}' behind Service "
                        f"'{name}' does not authenticate"
                    )
                elif any(found is None for found in serving):
                    shown = ", ".join(
                        _port(t) for t, f in zip(targets, serving, strict=True) if f is None
                    )
                    problems.append(
                        f"which container of {owner.obj.kind} '{owner.obj.name}' receives "
                        f"Service '{name}' port {shown} cannot be seen (declare it in the "
                        "container's ports)"
                    )
                elif not all(_authenticating(c, apps) for found in serving for c in found or []):
                    shown = ", ".join(
                        _port(t)
                        for t, found in zip(targets, serving, strict=True)
                        if not all(_authenticating(c, apps) for c in found or [])
                    )
                    problems.append(
                        f"Service '{name}' port {shown} reaches a container of "
                        f"{owner.obj.kind} '{owner.obj.name}' that does not authenticate, "
                        "past its auth proxy"
                    )
        for problem in dict.fromkeys(problems):
            report(
                f"{label} is reachable from the internet, but {problem} (put oauth2-proxy "
                "or the service's own auth in front, or list it in public_services).",
                p.resource.urn,
            )


POLICIES += [
    stack_policy(
        "k8s-namespace-network-policy",
        "Every namespace has a NetworkPolicy selecting all its pods for ingress (deny by "
        "default, then allow explicitly).",
        _check_namespace_policies,
        types=("kubernetes:core/v1:Namespace", "kubernetes:networking.k8s.io/v1:NetworkPolicy"),
        remediation="Add a NetworkPolicy with podSelector: {} and policyTypes: [Ingress] to "
        "the namespace, and policies that allow exactly the traffic its pods need.",
    ),
    stack_policy(
        "k8s-public-endpoint-authenticated",
        "Internet-facing LoadBalancer Services and Ingresses lead only to pods that "
        "authenticate (oauth2-proxy, MLflow's auth app) or to a load balancer that signs "
        "people in.",
        _check_public_endpoints,
        types=("kubernetes:core/v1:Service", "kubernetes:networking.k8s.io/v1:Ingress"),
        schema={
            "public_services": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "'<namespace>/<name>' of Services or Ingresses meant to be "
                "public without authentication.",
            },
            "mlflow_auth_apps": {
                "type": "array",
                "items": {"type": "string"},
                "default": DEFAULT_AUTH_APPS,
                "description": "MLflow --app-name values that authenticate.",
            },
        },
        remediation="Route the endpoint through oauth2-proxy, enable the service's own "
        "authentication, or mark the load balancer internal.",
    ),
]
