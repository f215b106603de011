"""Monthly cost estimate of a plan from the bundled, dated price table.

`estimate(plan)` returns the `cost` field of the `mlops plan --json` contract:
``{"monthly_usd": <number>, "items": [{"urn", "monthly_usd", "basis"}]}``.
Only provisioned capacity is priced (hours x rate, provisioned GB x rate);
usage charges depend on traffic, so usage-billed resources are listed at $0
with their rates. Every figure carries its arithmetic in ``basis`` so that a
reviewer can check it against the table (infra/base/prices-us-east-1.yaml, the
platform's one table of instance types: config validation refuses what it lacks).
A resource the table cannot price (an instance type, class or node type it does not
list, a type the plan does not show) is refused, never priced at $0.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from infra.base import instances, yamlio
from mlops.errors import MlopsError, PlanError

PRICE_FILE = instances.TABLE
TABLE_NAME = instances.TABLE_NAME

_REQUIRED = (
    "region",
    "as_of",
    "hours_per_month",
    "assumptions",
    "eks",
    "ec2_per_hour",
    "ebs_per_gb_month",
    "vpc",
    "elb_per_hour",
    "rds_per_hour",
    "rds_storage_per_gb_month",
    "rds_default_storage_type",
    "elasticache_per_hour",
    "elasticache_valkey_discount",
    "kms_key_per_month",
    "secrets_manager_per_secret_month",
    "dynamodb",
    "usage_only",
)

Json = dict[str, Any]


@dataclass(frozen=True)
class Prices:
    """The parsed price table; `raw` is the YAML document."""

    raw: Mapping[str, Any]

    @property
    def region(self) -> str:
        return str(self.raw["region"])

    @property
    def as_of(self) -> str:
        return str(self.raw["as_of"])

    @property
    def hours(self) -> float:
        return float(self.raw["hours_per_month"])

    @property
    def spot_discount(self) -> float:
        return float(self.raw["assumptions"]["spot_discount"])

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]


def load_prices(path: Path = PRICE_FILE) -> Prices:
    """Read and check a price table; a broken table is one line, not a traceback."""
    return _load_cached(path.resolve())


@functools.lru_cache(maxsize=4)
def _load_cached(path: Path) -> Prices:
    try:
        # the shipped table is parsed once per process, shared with config validation
        doc = instances.table() if path == PRICE_FILE.resolve() else yamlio.load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise MlopsError(f"{path}: cannot read the price table ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise MlopsError(f"{path}: the price table must be a mapping")
    missing = [k for k in _REQUIRED if k not in doc]
    if missing:
        raise MlopsError(f"{path}: price table lacks {', '.join(missing)}")
    discount = doc["assumptions"].get("spot_discount")
    if not isinstance(discount, int | float) or not 0 <= discount < 1:
        raise MlopsError(f"{path}: assumptions.spot_discount must be a fraction in [0, 1)")
    return Prices(doc)


# ---------------------------------------------------------------- formatting


def usd(amount: float) -> str:
    """A monthly amount in dollars and cents: `$1,234.56`."""
    return f"${amount:,.2f}"


def per_unit(value: float) -> str:
    """A unit price as the table states it: `$0.10`, `$0.096`, `$0.0384`."""
    if round(value, 2) == round(value, 8):
        return f"${value:.2f}"
    return f"${round(value, 8):.8f}".rstrip("0")


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# AWS's APIs take the counts priced here (node group sizes, GB, cache nodes, capacity
# units) as 32-bit integers: a value outside them is one AWS refuses, not a price.
_INT32_MAX = 2**31 - 1


def _count(value: Any, default: int) -> int:
    """An integer input, or the default when it is absent, unknown or a secret."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int | float | str):
        try:
            count = int(value)
        except (ValueError, OverflowError):  # not a number, inf, nan
            return default if isinstance(value, str) else _out_of_range(value)
        if not 0 <= count <= _INT32_MAX or (count != value and not isinstance(value, str)):
            _out_of_range(value)
        return count
    return default


def _out_of_range(value: Any) -> NoReturn:
    raise _Unpriced(f"{value!r} is not a count AWS accepts (a whole number 0..{_INT32_MAX})")


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


@dataclass(frozen=True)
class Priced:
    monthly: float
    basis: str


class _Unpriced(Exception):
    """A resource the table cannot price; `estimate` refuses the plan naming it."""


def _unpriced(what: str, prices: Prices) -> NoReturn:
    raise _Unpriced(
        f"no {prices.region} list price for {what} in {TABLE_NAME} (as of {prices.as_of}): "
        "AWS does not offer it, or the table lacks it (add it with its list price)"
    )


# ---------------------------------------------------------------- pricers

Index = Mapping[str, Json]  # the plan's resources by URN
Pricer = Callable[[Json, Prices, Index], Priced | None]


def _eks_cluster(r: Json, p: Prices, by_urn: Index) -> Priced:
    """Standard or extended support on the plan's date, from the one version table; a
    version the table does not know is priced at the extended rate (the higher one)."""
    from infra.base import versions

    version = r["inputs"].get("version")
    support = (
        versions.eks_support(version, versions.plan_date()) if isinstance(version, str) else None
    )
    extended = support != "standard"
    rate = float(p["eks"]["extended_support_per_hour" if extended else "cluster_per_hour"])
    shown = f"Kubernetes {version} " if isinstance(version, str) else ""
    label = (
        "standard support"
        if not extended
        else ("extended support" if support else "extended support (not in the version table)")
    )
    return Priced(
        rate * p.hours,
        f"EKS control plane, {shown}{label} x {_num(p.hours)} h x {per_unit(rate)}/h",
    )


def _launch_template(r: Json, by_urn: Index) -> Json | None:
    """The LaunchTemplate a node group's `launchTemplate` input was built from, if planned."""
    urns = (r.get("propertyDependencies") or {}).get("launchTemplate") or r.get("dependencies", [])
    for urn in urns:
        found = by_urn.get(urn)
        if found and found["type"] == "aws:ec2/launchTemplate:LaunchTemplate":
            return found
    return None


def _root_volume(r: Json, p: Prices, by_urn: Index) -> tuple[int, str]:
    """Root volume GB and type: from the launch template, else diskSize, else the EKS default."""
    template = _launch_template(r, by_urn)
    for mapping in (template or {}).get("inputs", {}).get("blockDeviceMappings") or []:
        ebs = mapping.get("ebs") if isinstance(mapping, dict) else None
        if isinstance(ebs, dict) and ebs.get("volumeSize") is not None:
            volume = str(ebs.get("volumeType") or "gp2")  # EC2's default volume type
            if volume in p["ebs_per_gb_month"]:
                return _count(ebs["volumeSize"], 0), volume
    default_gb = int(p["assumptions"]["node_disk_default_gb"])
    return _count(r["inputs"].get("diskSize"), default_gb), str(
        p["assumptions"]["node_root_volume"]
    )


def _node_group(r: Json, p: Prices, by_urn: Index) -> Priced:
    inputs = r["inputs"]
    template = _launch_template(r, by_urn)
    types = inputs.get("instanceTypes")
    if not isinstance(types, list) or not types:
        itype = template["inputs"].get("instanceType") if template else None
        if inputs.get("launchTemplate") and not isinstance(itype, str):
            raise _Unpriced(
                "cannot see its instance type: it comes from a launch template the plan "
                "does not show"
            )
        # the launch template's type, else the EKS API default when no type is given
        types = [itype] if isinstance(itype, str) else ["t3.medium"]
    for listed in map(str, types):  # any of them may be launched
        if listed not in p["ec2_per_hour"]:
            _unpriced(f"EC2 {listed}", p)
    itype = str(types[0])
    on_demand = p["ec2_per_hour"][itype]
    scaling = inputs.get("scalingConfig") or {}
    desired = _count(scaling.get("desiredSize"), 1)
    low = _count(scaling.get("minSize"), desired)
    high = _count(scaling.get("maxSize"), desired)
    spot = inputs.get("capacityType") == "SPOT"
    rate = float(on_demand) * (1 - p.spot_discount) if spot else float(on_demand)
    disk_gb, volume = _root_volume(r, p, by_urn)
    gb_rate = float(p["ebs_per_gb_month"][volume])
    per_node = rate * p.hours + disk_gb * gb_rate
    capacity = (
        f"spot x {_num(p.hours)} h x {per_unit(rate)}/h "
        f"(on-demand {per_unit(float(on_demand))}/h less the assumed "
        f"{p.spot_discount:.0%} spot discount)"
        if spot
        else f"on-demand x {_num(p.hours)} h x {per_unit(rate)}/h"
    )
    also = f"; of {', '.join(map(str, types))} the first is priced" if len(types) > 1 else ""
    basis = (
        f"{desired} x {itype} {capacity} + {desired} x {disk_gb} GB {volume} x "
        f"{per_unit(gb_rate)}/GB-month{also}; scales {low}..{high} nodes: "
        f"{usd(low * per_node)}..{usd(high * per_node)}/month"
    )
    return Priced(desired * per_node, basis)


def _nat_gateway(r: Json, p: Prices, by_urn: Index) -> Priced:
    rate = float(p["vpc"]["nat_gateway_per_hour"])
    return Priced(
        rate * p.hours,
        f"NAT gateway x {_num(p.hours)} h x {per_unit(rate)}/h "
        "(data processed: usage, not estimated)",
    )


def _eip(r: Json, p: Prices, by_urn: Index) -> Priced:
    rate = float(p["vpc"]["public_ipv4_per_hour"])
    return Priced(rate * p.hours, f"public IPv4 address x {_num(p.hours)} h x {per_unit(rate)}/h")


def _vpc_endpoint(r: Json, p: Prices, by_urn: Index) -> Priced:
    inputs = r["inputs"]
    kind = inputs.get("vpcEndpointType") or "Gateway"
    service = inputs.get("serviceName") or "?"
    if kind == "Gateway":
        return Priced(0.0, f"gateway endpoint ({service}): no charge")
    subnets = inputs.get("subnetIds")
    azs = (
        len(subnets)
        if isinstance(subnets, list) and subnets
        else int(p["assumptions"]["interface_endpoint_azs_default"])
    )
    rate = float(p["vpc"]["interface_endpoint_per_az_hour"])
    return Priced(
        azs * rate * p.hours,
        f"{kind} endpoint ({service}) in {azs} AZ(s) x {_num(p.hours)} h x {per_unit(rate)}/h "
        "(data processed: usage, not estimated)",
    )


def _load_balancer_of(kind: str, p: Prices, what: str) -> Priced:
    rate = float(p["elb_per_hour"][kind])
    return Priced(
        rate * p.hours,
        f"{what} x {_num(p.hours)} h x {per_unit(rate)}/h (capacity units: usage, not estimated)",
    )


_LB_NAMES = {
    "application": "Application Load Balancer",
    "network": "Network Load Balancer",
    "gateway": "Gateway Load Balancer",
    "classic": "Classic Load Balancer",
}


def _load_balancer(r: Json, p: Prices, by_urn: Index) -> Priced:
    kind = str(r["inputs"].get("loadBalancerType") or "application")
    if kind not in p["elb_per_hour"]:
        return _unpriced(f"load balancer type {kind}", p)
    return _load_balancer_of(kind, p, _LB_NAMES.get(kind, kind))


def _classic_elb(r: Json, p: Prices, by_urn: Index) -> Priced:
    return _load_balancer_of("classic", p, _LB_NAMES["classic"])


_NLB_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type"


def _k8s_service(r: Json, p: Prices, by_urn: Index) -> Priced | None:
    spec = r["inputs"].get("spec") or {}
    if not isinstance(spec, dict) or spec.get("type") != "LoadBalancer":
        return None  # ClusterIP/NodePort services cost nothing
    annotations = _dig(r["inputs"], "metadata", "annotations") or {}
    nlb = (
        isinstance(annotations, dict)
        and annotations.get(_NLB_ANNOTATION) in {"nlb", "external", "nlb-ip"}
    ) or spec.get("loadBalancerClass") == "service.k8s.aws/nlb"
    if nlb:
        return _load_balancer_of("network", p, "Service type LoadBalancer → Network Load Balancer")
    return _load_balancer_of("classic", p, "Service type LoadBalancer → Classic Load Balancer")


def _rds_instance(r: Json, p: Prices, by_urn: Index) -> Priced:
    inputs = r["inputs"]
    engine = str(inputs.get("engine") or "postgres")
    family = {"postgres": "postgres", "mysql": "mysql", "mariadb": "mysql"}.get(engine)
    klass = str(inputs.get("instanceClass") or "?")
    table = p["rds_per_hour"].get(family or "", {})
    if klass not in table:
        return _unpriced(f"RDS {engine} {klass}", p)
    rate = float(table[klass])
    multi = inputs.get("multiAz") is True
    copies = 2 if multi else 1
    storage_type = str(inputs.get("storageType") or p["rds_default_storage_type"])
    gb_rate = p["rds_storage_per_gb_month"].get(storage_type)
    if gb_rate is None:
        return _unpriced(f"RDS storage type {storage_type}", p)
    gb = _count(inputs.get("allocatedStorage"), 20)
    az = "Multi-AZ (x2)" if multi else "single-AZ"
    monthly = copies * (rate * p.hours + gb * float(gb_rate))
    return Priced(
        monthly,
        f"RDS {engine} {klass} {az}: {copies} x ({_num(p.hours)} h x {per_unit(rate)}/h + "
        f"{gb} GB {storage_type} x {per_unit(float(gb_rate))}/GB-month) "
        "(backups and I/O: usage, not estimated)",
    )


def _cache_nodes(r: Json, p: Prices, nodes: int, what: str) -> Priced:
    inputs = r["inputs"]
    node_type = str(inputs.get("nodeType") or "?")
    on_demand = p["elasticache_per_hour"].get(node_type)
    if on_demand is None:
        return _unpriced(f"ElastiCache {node_type}", p)
    engine = str(inputs.get("engine") or "redis")
    rate = float(on_demand)
    note = ""
    if engine == "valkey":
        discount = float(p["elasticache_valkey_discount"])
        rate *= 1 - discount
        note = f" (Valkey: {discount:.0%} below the Redis OSS price {per_unit(float(on_demand))}/h)"
    return Priced(
        nodes * rate * p.hours,
        f"{what}: {nodes} x {node_type} x {_num(p.hours)} h x {per_unit(rate)}/h{note}",
    )


def _replication_group(r: Json, p: Prices, by_urn: Index) -> Priced:
    inputs = r["inputs"]
    if inputs.get("numCacheClusters") is not None:
        nodes = _count(inputs.get("numCacheClusters"), 1)
    elif inputs.get("numNodeGroups") is not None:
        shards = _count(inputs.get("numNodeGroups"), 1)
        nodes = shards * (1 + _count(inputs.get("replicasPerNodeGroup"), 0))
    else:
        nodes = 1
    return _cache_nodes(r, p, nodes, "ElastiCache replication group")


def _cache_cluster(r: Json, p: Prices, by_urn: Index) -> Priced:
    nodes = _count(r["inputs"].get("numCacheNodes"), 1)
    return _cache_nodes(r, p, nodes, "ElastiCache cluster")


def _kms_key(r: Json, p: Prices, by_urn: Index) -> Priced:
    rate = float(p["kms_key_per_month"])
    return Priced(rate, f"KMS customer-managed key x {per_unit(rate)}/month (requests: usage)")


def _secret(r: Json, p: Prices, by_urn: Index) -> Priced:
    rate = float(p["secrets_manager_per_secret_month"])
    return Priced(rate, f"Secrets Manager secret x {per_unit(rate)}/month (API calls: usage)")


def _dynamodb_table(r: Json, p: Prices, by_urn: Index) -> Priced:
    inputs = r["inputs"]
    if inputs.get("billingMode") == "PAY_PER_REQUEST":
        return Priced(0.0, f"on-demand table, {p['dynamodb']['on_demand']} (usage, not estimated)")
    rcu = _count(inputs.get("readCapacity"), 0)
    wcu = _count(inputs.get("writeCapacity"), 0)
    r_rate = float(p["dynamodb"]["rcu_per_hour"])
    w_rate = float(p["dynamodb"]["wcu_per_hour"])
    return Priced(
        (rcu * r_rate + wcu * w_rate) * p.hours,
        f"provisioned table: ({rcu} RCU x {per_unit(r_rate)}/h + "
        f"{wcu} WCU x {per_unit(w_rate)}/h) x {_num(p.hours)} h (storage: usage, not estimated)",
    )


PRICERS: dict[str, Pricer] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:alb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:elb/loadBalancer:LoadBalancer": _classic_elb,
    "kubernetes:core/v1:Service": _k8s_service,
    "aws:rds/instance:Instance": _rds_instance,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:elasticache/cluster:Cluster": _cache_cluster,
    "aws:kms/key:Key": _kms_key,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:dynamodb/table:Table": _dynamodb_table,
}

_INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
_INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass"
_CLASS_PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams"
_ALB_CONTROLLER = "ingress.k8s.aws/alb"
_ALB_GROUP = "alb.ingress.kubernetes.io/group.name"


def _alb_classes(resources: list[Json]) -> dict[str, str | None]:
    """Ingress classes served by the AWS Load Balancer Controller -> their ALB group, if any.

    `alb` is the controller's default class; an IngressClass naming the controller adds
    its own name, and its IngressClassParams `spec.group.name` puts every ingress of the
    class on one shared ALB.
    """
    params = {
        _dig(r["inputs"], "metadata", "name"): _dig(r["inputs"], "spec", "group", "name")
        for r in resources
        if r["type"] == _CLASS_PARAMS
    }
    classes: dict[str, str | None] = {"alb": None}
    for r in resources:
        if (
            r["type"] != _INGRESS_CLASS
            or _dig(r["inputs"], "spec", "controller") != _ALB_CONTROLLER
        ):
            continue
        name = _dig(r["inputs"], "metadata", "name")
        if isinstance(name, str):
            group = params.get(_dig(r["inputs"], "spec", "parameters", "name"))
            classes[name] = group if isinstance(group, str) else None
    return classes


def _ingresses(resources: list[Json], p: Prices) -> dict[str, Priced]:
    """ALB ingresses: one ALB per ingress, or one per group of ingresses sharing it."""
    classes = _alb_classes(resources)
    priced: dict[str, Priced] = {}
    groups: set[str] = set()
    for r in sorted((r for r in resources if r["type"] == _INGRESS), key=lambda r: r["urn"]):
        inputs = r["inputs"]
        annotations = _dig(inputs, "metadata", "annotations") or {}
        if not isinstance(annotations, dict):
            annotations = {}
        klass = _dig(inputs, "spec", "ingressClassName") or annotations.get(
            "kubernetes.io/ingress.class"
        )
        if klass not in classes:
            continue  # other controllers run behind a Service, priced there
        group = classes[klass] or annotations.get(_ALB_GROUP)
        if isinstance(group, str) and group in groups:
            priced[r["urn"]] = Priced(0.0, f"shares the ALB of ingress group {group!r}")
            continue
        if isinstance(group, str):
            groups.add(group)
        priced[r["urn"]] = _load_balancer_of("application", p, f"Ingress class {klass} → ALB")
    return priced


_STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
_PVC = "kubernetes:core/v1:PersistentVolumeClaim"
_STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
_RELEASE = "kubernetes:helm.sh/v3:Release"
# EBS provisioners and the volume type each creates without a `type` parameter
_EBS_PROVISIONERS = {"ebs.csi.aws.com": "gp3", "kubernetes.io/aws-ebs": "gp2"}
_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}


def _gib(quantity: Any) -> float | None:
    """A Kubernetes storage quantity in GiB (None when it is not one)."""
    text = str(quantity).strip()
    for suffixes in (_BINARY, _DECIMAL):
        for suffix, factor in suffixes.items():
            if text.endswith(suffix):
                try:
                    return float(text[: -len(suffix)]) * factor / 2**30
                except ValueError:
                    return None
    try:
        return float(text) / 2**30
    except ValueError:
        return None


def _ebs_classes(resources: list[Json]) -> tuple[dict[str, str], str | None]:
    """EBS StorageClasses of the plan -> their volume type; and the default class."""
    classes: dict[str, str] = {}
    default = None
    for r in resources:
        if r["type"] != _STORAGE_CLASS:
            continue
        name = _dig(r["inputs"], "metadata", "name")
        provisioner = r["inputs"].get("provisioner")
        if not isinstance(name, str):
            continue
        if provisioner in _EBS_PROVISIONERS:
            volume = _dig(r["inputs"], "parameters", "type") or _EBS_PROVISIONERS[provisioner]
            classes[name] = str(volume)
        annotations = _dig(r["inputs"], "metadata", "annotations") or {}
        if isinstance(annotations, dict) and str(annotations.get(_DEFAULT_CLASS)) == "true":
            default = name
    return classes, default


def _templates(value: Any, replicas: int = 1) -> list[tuple[Any, int]]:
    """(claim spec, copies) of every ``volumeClaimTemplate`` below ``value``; a sibling
    ``replicas`` multiplies it (Prometheus and Alertmanager specs, charts' values)."""
    found: list[tuple[Any, int]] = []
    if isinstance(value, dict):
        here = value.get("replicas")
        copies = here if isinstance(here, int) and not isinstance(here, bool) else replicas
        for key, v in value.items():
            if key == "volumeClaimTemplate" and isinstance(v, dict):
                found.append((v.get("spec"), copies))
            else:
                found += _templates(v, copies)
    elif isinstance(value, list):
        for v in value:
            found += _templates(v, replicas)
    return found


def _claims(resources: list[Json], p: Prices) -> dict[str, Priced]:
    """EBS volumes the plan's claims provision: PVCs, StatefulSets' claim templates and
    the claim templates in charts' values (Prometheus), through the plan's StorageClasses.
    A claim on a class the plan does not hold, or not backed by EBS, is not priced here."""
    classes, default = _ebs_classes(resources)
    rates: Mapping[str, Any] = p["ebs_per_gb_month"]
    priced: dict[str, Priced] = {}
    for r in sorted(resources, key=lambda r: r["urn"]):
        inputs = r["inputs"]
        claims: list[tuple[Any, int]] = []
        if r["type"] == _PVC:
            claims = [(inputs.get("spec"), 1)]
        elif r["type"] == _STATEFUL_SET:
            copies = _count(_dig(inputs, "spec", "replicas"), 1)
            claims = [
                (t.get("spec") if isinstance(t, dict) else None, copies)
                for t in _dig(inputs, "spec", "volumeClaimTemplates") or []
            ]
        elif r["type"] == _RELEASE:
            claims = _templates(inputs.get("values"))
        total, parts = 0.0, []
        for spec, copies in claims:
            spec = spec if isinstance(spec, dict) else {}
            klass = spec.get("storageClassName", default)
            volume = classes.get(klass) if isinstance(klass, str) else None
            size = _gib(_dig(spec, "resources", "requests", "storage"))
            if volume is None or size is None:
                continue
            if volume not in rates:
                raise PlanError(
                    f"{r['type']} '{r['name']}': cannot price it: EBS volume type {volume!r} "
                    f"is not in {TABLE_NAME}"
                )
            total += copies * size * float(rates[volume])
            parts.append(
                f"{copies} x {_num(size)} GiB {volume} (StorageClass {klass}) "
                f"x {per_unit(float(rates[volume]))}/GB-month"
            )
        if parts:
            priced[r["urn"]] = Priced(total, "EBS volumes: " + " + ".join(parts))
    return priced


# Every type this model reads to price something (mlops/data/resource-types.yaml says
# `price: priced` for exactly these; its test holds the two together).
PRICED_TYPES: frozenset[str] = frozenset(PRICERS) | {_INGRESS, _PVC, _STATEFUL_SET, _RELEASE}


def _stack_region(resources: list[Json]) -> str | None:
    for r in resources:
        if r["type"] == "pulumi:providers:aws":
            region = r["inputs"].get("region")
            if isinstance(region, str):
                return region
    return None


def estimate(plan: Mapping[str, Any], prices: Prices | None = None) -> dict[str, Any]:
    """The `cost` field of the plan contract: items sorted by URN, amounts in cents."""
    p = prices or load_prices()
    resources: list[Json] = [r for r in plan.get("resources", []) if r.get("custom", True)]
    region = _stack_region(resources)
    caveat = (
        f" [{p.region} list prices; the stack is in {region}]"
        if region and region != p.region
        else ""
    )
    by_urn = {r["urn"]: r for r in resources}
    found: dict[str, Priced] = {**_ingresses(resources, p), **_claims(resources, p)}
    usage_only: Mapping[str, str] = p["usage_only"]
    for r in resources:
        pricer = PRICERS.get(r["type"])
        if pricer is not None:
            try:
                result = pricer(r, p, by_urn)
            except _Unpriced as exc:
                raise PlanError(f"{r['type']} '{r['name']}': cannot price it: {exc}") from None
            if result is not None:
                found[r["urn"]] = result
        elif r["type"] in usage_only:
            found[r["urn"]] = Priced(0.0, f"usage-based: {usage_only[r['type']]} (not estimated)")
    items: list[dict[str, Any]] = [
        {
            "urn": urn,
            "monthly_usd": round(found[urn].monthly, 2),
            "basis": found[urn].basis + caveat,
        }
        for urn in sorted(found)
    ]
    # the total is the sum of the rounded items, so the table a reviewer sees adds up
    total = round(sum(float(item["monthly_usd"]) for item in items), 2)
    return {"monthly_usd": total, "items": items}
