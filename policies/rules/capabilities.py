"""Cluster capabilities: an object that needs something the cluster does not have by
itself finds what provides it in the same plan.

The API server accepts these objects on any cluster, and `pulumi up` reports success;
nothing happens afterwards. EKS has none of the providers until they are installed
(EKS >= 1.30 has no default StorageClass either), so each need is matched to a provider
the plan shows:

* the Metrics API (``metrics.k8s.io``), for a HorizontalPodAutoscaler on resource metrics
  (or none: CPU by default), an InferenceService KServe scales with an HPA, a chart's
  ``autoscaling.enabled``: the EKS add-on or chart ``metrics-server``, an APIService
  ``v1beta1.metrics.k8s.io``, a metrics-server container;
* a StorageClass (the named one, or a default one when none is named) and the CSI driver
  of its provisioner, for a PersistentVolumeClaim, a StatefulSet's ``volumeClaimTemplates``,
  any ``volumeClaimTemplate`` (ephemeral volumes, Prometheus/Alertmanager) and a chart's
  ``persistence.enabled`` or ``volumeClaimTemplate``: StorageClass objects (or the EBS CSI
  chart's ``storageClasses``); the EKS add-ons or charts ``aws-ebs-csi-driver``,
  ``aws-efs-csi-driver``, ``aws-mountpoint-s3-csi-driver``, a CSIDriver object;
* the AWS Load Balancer Controller, for an Ingress (or any ``ingressClassName``, a chart's
  ``ingress*.className``) of class ``alb`` or of an IngressClass of
  ``ingress.k8s.aws/alb``, and a LoadBalancer Service of class ``service.k8s.aws/nlb`` or
  type ``external``/``nlb-ip``: chart ``aws-load-balancer-controller``, its container;
* an NVIDIA device plugin, for ``nvidia.com/gpu`` above zero in requests, limits or quotas
  and a node group of an NVIDIA AMI (Bottlerocket's ships the plugin): charts
  ``nvidia-device-plugin``, ``gpu-operator``, a k8s-device-plugin container;
* NetworkPolicy enforcement in the CNI, for a NetworkPolicy: the vpc-cni add-on with
  ``enableNetworkPolicy: "true"`` in its configurationValues, chart ``aws-vpc-cni`` with
  ``enableNetworkPolicy``, Calico (``tigera-operator``, ``calico``), Cilium;
* an autoscaler that resizes node groups, for a managed node group whose desired size is
  below its maximum: chart ``cluster-autoscaler``, its container (Karpenter launches nodes
  of its own and never resizes a node group).

Fails closed: a value the rule needs and cannot see (a secret, an unknown) is reported,
and a stack with more than one EKS cluster is refused (which cluster provides what is
not in the plan).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import Policy, PolicyResource, ReportViolation, StackValidationArgs

from .common import as_dict, as_list, get, resources_of, stack_policy
from .k8s import Object, hidden, objects, pod_specs

ADDON = "aws:eks/addon:Addon"
EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
RELEASE = "kubernetes:helm.sh/v3:Release"
CHARTS = (RELEASE, "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart")

METRICS, ALB, GPU, NETPOL, AUTOSCALER = "metrics", "alb", "gpu", "netpol", "autoscaler"
NEEDS = {
    METRICS: "the Metrics API (metrics.k8s.io), which nothing in the plan serves: add the EKS "
    "add-on metrics-server (or its chart)",
    ALB: "the AWS Load Balancer Controller, which nothing in the plan installs: add its chart "
    "(aws-load-balancer-controller)",
    GPU: "an NVIDIA device plugin, which nothing in the plan installs (nodes advertise no "
    "nvidia.com/gpu without it): add the nvidia-device-plugin chart",
    NETPOL: "NetworkPolicy enforcement in the CNI, which nothing in the plan turns on (the "
    'policy is accepted and ignored): set enableNetworkPolicy "true" in the vpc-cni '
    "add-on's configurationValues, or install Calico or Cilium",
    AUTOSCALER: "a node autoscaler, which nothing in the plan installs (the group never "
    "grows past its desired size): add the cluster-autoscaler chart (Karpenter launches "
    "nodes of its own and never resizes a node group)",
}
ADDON_PROVIDES = {"metrics-server": METRICS}
ADDON_CSI = {
    "aws-ebs-csi-driver": "ebs.csi.aws.com",
    "aws-efs-csi-driver": "efs.csi.aws.com",
    "aws-mountpoint-s3-csi-driver": "s3.csi.aws.com",
}
CHART_PROVIDES = {
    "metrics-server": METRICS,
    "aws-load-balancer-controller": ALB,
    "nvidia-device-plugin": GPU,
    "gpu-operator": GPU,
    "tigera-operator": NETPOL,
    "calico": NETPOL,
    "cilium": NETPOL,
    "cluster-autoscaler": AUTOSCALER,
}
CHART_CSI = ADDON_CSI
# a container of one of these images provides the capability, however it was installed
IMAGE_PROVIDES = (
    (re.compile(r"(^|/)metrics-server(/metrics-server)?[:@]"), METRICS),
    (re.compile(r"(^|/)aws-load-balancer-controller[:@]"), ALB),
    (re.compile(r"(^|/)k8s-device-plugin[:@]"), GPU),
    (re.compile(r"(^|/)calico/node[:@]|(^|/)cilium/cilium[:@]"), NETPOL),
    (re.compile(r"(^|/)cluster-autoscaler[:@]"), AUTOSCALER),
)
# in-tree provisioners migrated to a CSI driver (the in-tree code is gone since 1.27)
MIGRATED = {"kubernetes.io/aws-ebs": "ebs.csi.aws.com"}
DEFAULT_CLASS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
ALB_CONTROLLER = "ingress.k8s.aws/alb"
NLB_CLASS = "service.k8s.aws/nlb"
LB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
GPU_KEY = re.compile(r"^((requests|limits)\.)?nvidia\.com/gpu$")
KSERVE_AUTOSCALER = "serving.kserve.io/autoscalerClass"
KSERVE_MODE = "serving.kserve.io/deploymentMode"


@dataclass
class StorageClass:
    provisioner: Any
    default: bool


@dataclass
class Providers:
    capabilities: set[str] = field(default_factory=set)
    drivers: set[str] = field(default_factory=set)
    classes: dict[str, StorageClass] = field(default_factory=dict)
    alb_classes: set[str] = field(default_factory=lambda: {"alb"})


@dataclass
class Need:
    resource: PolicyResource
    what: str  # "HorizontalPodAutoscaler mlflow"
    capability: str = ""  # one of NEEDS, or "" for a claim
    storage_class: Any = None  # a claim: its storageClassName (None: the default)
    unseen: str = ""  # what could not be read


def chart_name(props: Mapping[str, Any]) -> str | None:
    """The chart a Release or Chart installs ('repo/name', an OCI or https URL, or a name)."""
    chart = props.get("chart")
    if not isinstance(chart, str) or hidden(chart):
        return None
    name = chart.rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"-\d+\.\d+\.\d+.*\.tgz$", "", name)


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _nonzero(value: Any) -> bool | None:
    if hidden(value):
        return None
    try:
        return float(str(value).strip()) != 0
    except ValueError:
        return True  # a quantity with a suffix ("1k") is above zero


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every mapping entry below ``value``."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            yield here, str(k), v
            yield from _walk(v, here)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


def _images(obj: Object) -> list[str]:
    return [
        str(c.spec.get("image"))
        for pod in pod_specs(obj)
        for c in pod.containers
        if isinstance(c.spec.get("image"), str)
    ]


def _vpc_cni_enforces(props: Mapping[str, Any]) -> bool | None:
    raw = props.get("configurationValues")
    if raw is None:
        return False
    if hidden(raw):
        return None
    try:
        values = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    # the add-on's schema takes the string "true" (aws eks describe-addon-configuration)
    return isinstance(values, Mapping) and values.get("enableNetworkPolicy") == "true"


def providers(
    args: StackValidationArgs, objs: list[tuple[PolicyResource, Object]], report: ReportViolation
) -> Providers:
    found = Providers()
    for addon in resources_of(args, ADDON):
        name = addon.props.get("addonName")
        if name in ADDON_PROVIDES:
            found.capabilities.add(ADDON_PROVIDES[name])
        if name in ADDON_CSI:
            found.drivers.add(ADDON_CSI[name])
        if name == "vpc-cni":
            enforces = _vpc_cni_enforces(addon.props)
            if enforces is None:
                report(
                    "The vpc-cni add-on's configurationValues cannot be read: whether it "
                    "enforces NetworkPolicies is not known.",
                    addon.urn,
                )
            elif enforces:
                found.capabilities.add(NETPOL)
    for release in resources_of(args, *CHARTS):
        chart = chart_name(release.props)
        values = as_dict(release.props.get("values"))
        if chart in CHART_PROVIDES:
            found.capabilities.add(CHART_PROVIDES[chart])
        if chart in CHART_CSI:
            found.drivers.add(CHART_CSI[chart])
        if chart == "aws-vpc-cni" and _is_true(values.get("enableNetworkPolicy")):
            found.capabilities.add(NETPOL)
        if chart == "aws-ebs-csi-driver":
            for sc in as_list(values.get("storageClasses")):
                sc = as_dict(sc)
                annotations = as_dict(sc.get("annotations"))
                if isinstance(sc.get("name"), str):
                    found.classes[sc["name"]] = StorageClass(
                        "ebs.csi.aws.com", any(_is_true(annotations.get(a)) for a in DEFAULT_CLASS)
                    )
    for _, obj in objs:
        kind, group = obj.kind, obj.group
        if kind == "StorageClass" and group == "storage.k8s.io":
            annotations = as_dict(get(obj.props, "metadata", "annotations"))
            if isinstance(obj.name, str):
                found.classes[obj.name] = StorageClass(
                    obj.props.get("provisioner"),
                    any(_is_true(annotations.get(a)) for a in DEFAULT_CLASS),
                )
        elif kind == "CSIDriver" and group == "storage.k8s.io" and isinstance(obj.name, str):
            found.drivers.add(obj.name)
        elif kind == "APIService" and obj.name == "v1beta1.metrics.k8s.io":
            found.capabilities.add(METRICS)
        elif (
            kind == "IngressClass"
            and group == "networking.k8s.io"
            and get(obj.props, "spec", "controller") == ALB_CONTROLLER
            and isinstance(obj.name, str)
        ):
            found.alb_classes.add(obj.name)
        for image in _images(obj):
            for pattern, capability in IMAGE_PROVIDES:
                if pattern.search(image):
                    found.capabilities.add(capability)
    return found


def _label(resource: PolicyResource, obj: Object | None = None) -> str:
    if obj is None:
        return f"{resource.resource_type.rsplit(':', 1)[-1]} {resource.name}"
    return f"{obj.prefix()}{obj.kind} {obj.name}"


def _claims_in(value: Any, resource: PolicyResource, what: str) -> Iterator[Need]:
    """Claims that ``value`` (an object's fields or a chart's values) asks for."""
    for path, key, v in _walk(value):
        if key == "volumeClaimTemplate" and isinstance(v, Mapping):
            yield _claim(resource, f"{what} {path}", get(v, "spec"))
        elif key == "volumeClaimTemplates":
            for i, t in enumerate(as_list(v)):
                yield _claim(resource, f"{what} {path}[{i}]", get(t, "spec"))
        elif key == "persistence" and isinstance(v, Mapping) and _is_true(v.get("enabled")):
            klass = v.get("storageClassName", v.get("storageClass"))
            yield _claim(
                resource, f"{what} {path}", {"storageClassName": klass} if klass is not None else {}
            )


def _claim(resource: PolicyResource, what: str, spec: Any) -> Need:
    if hidden(spec):
        return Need(resource, what, unseen="its claim spec")
    klass = as_dict(spec).get("storageClassName")
    if hidden(klass):
        return Need(resource, what, unseen="storageClassName")
    return Need(resource, what, storage_class=klass)


def _gpu_asks(value: Any, resource: PolicyResource, what: str) -> Iterator[Need]:
    for path, key, v in _walk(value):
        if GPU_KEY.match(key):
            nonzero = _nonzero(v)
            if nonzero is None:
                yield Need(resource, f"{what} {path}", GPU, unseen=path)
            elif nonzero:
                yield Need(resource, f"{what} {path}", GPU)


def _ingress_classes(value: Any) -> Iterator[tuple[str, Any]]:
    for path, key, v in _walk(value):
        if key == "ingressClassName":
            yield path, v
        elif (
            "ingress" in key.lower()
            and isinstance(v, Mapping)
            and "className" in v
            and (v.get("enabled") is None or _is_true(v.get("enabled")))
        ):
            yield f"{path}.className", v.get("className")


def _object_needs(resource: PolicyResource, obj: Object, found: Providers) -> Iterator[Need]:
    kind, group, props = obj.kind, obj.group, obj.props
    what = _label(resource, obj)
    annotations = as_dict(get(props, "metadata", "annotations"))
    if kind == "HorizontalPodAutoscaler" and group == "autoscaling":
        metrics = get(props, "spec", "metrics")
        if hidden(metrics):
            yield Need(resource, what, METRICS, unseen="spec.metrics")
        elif (
            not as_list(metrics)
            or any(
                as_dict(m).get("type") in ("Resource", "ContainerResource")
                for m in as_list(metrics)
            )
            or get(props, "spec", "targetCPUUtilizationPercentage")
        ):
            yield Need(resource, what, METRICS)
    elif kind == "InferenceService" and group == "serving.kserve.io":
        if (
            annotations.get(KSERVE_AUTOSCALER) not in ("none", "external", "keda")
            and annotations.get(KSERVE_MODE) != "Serverless"
        ):
            yield Need(resource, what, METRICS)
    elif kind == "PersistentVolumeClaim" and group in ("", "core"):
        yield _claim(resource, what, props.get("spec"))
    elif kind == "NetworkPolicy" and group == "networking.k8s.io":
        yield Need(resource, what, NETPOL)
    elif kind == "Service" and group in ("", "core"):
        lb_class = get(props, "spec", "loadBalancerClass")
        if lb_class == NLB_CLASS or annotations.get(LB_TYPE) in ("external", "nlb-ip"):
            yield Need(resource, what, ALB)
    if kind == "Ingress" and "kubernetes.io/ingress.class" in annotations:
        klass = annotations["kubernetes.io/ingress.class"]
        if hidden(klass):
            yield Need(resource, what, ALB, unseen="kubernetes.io/ingress.class")
        elif klass in found.alb_classes:
            yield Need(resource, what, ALB)
    spec = {k: v for k, v in props.items() if k != "metadata"}
    for path, klass in _ingress_classes(spec):
        if hidden(klass):
            yield Need(resource, f"{what} {path}", ALB, unseen=path)
        elif klass in found.alb_classes:
            yield Need(resource, f"{what} {path}", ALB)
    if kind != "PersistentVolumeClaim":
        yield from _claims_in(spec, resource, what)
    yield from _gpu_asks(spec, resource, what)


def needs(
    args: StackValidationArgs, objs: list[tuple[PolicyResource, Object]], found: Providers
) -> list[Need]:
    out: list[Need] = []
    for resource, obj in objs:
        out += _object_needs(resource, obj, found)
    for release in resources_of(args, *CHARTS):
        what = _label(release)
        values = release.props.get("values")
        if hidden(values):
            out.append(Need(release, what, unseen="values"))
            continue
        autoscaling = [
            p
            for p, k, v in _walk(values)
            if k == "autoscaling" and isinstance(v, Mapping) and _is_true(v.get("enabled"))
        ]
        out += [Need(release, f"{what} values.{p}", METRICS) for p in autoscaling]
        out += [n for n in _claims_in(values, release, f"{what} values")]
        out += list(_gpu_asks(values, release, f"{what} values"))
        for path, klass in _ingress_classes(values):
            if hidden(klass):
                out.append(Need(release, f"{what} values.{path}", ALB, unseen=path))
            elif klass in found.alb_classes:
                out.append(Need(release, f"{what} values.{path}", ALB))
    for group in resources_of(args, NODE_GROUP):
        what = _label(group)
        ami = group.props.get("amiType")
        if (
            isinstance(ami, str)
            and ("NVIDIA" in ami or "GPU" in ami)
            and not ami.startswith("BOTTLEROCKET")
        ):
            out.append(Need(group, f"{what} (AMI {ami})", GPU))
        scaling = group.props.get("scalingConfig")
        desired, most = get(scaling, "desiredSize"), get(scaling, "maxSize")
        if hidden(scaling) or hidden(desired) or hidden(most):
            out.append(Need(group, what, AUTOSCALER, unseen="scalingConfig"))
        elif (
            isinstance(desired, int | float) and isinstance(most, int | float) and (desired < most)
        ):
            out.append(Need(group, f"{what} (desired {desired:g} < max {most:g})", AUTOSCALER))
    return out


def _check_claim(need: Need, found: Providers) -> str | None:
    klass = need.storage_class
    if klass == "":
        return None  # binds a pre-provisioned volume: no class, no provisioner
    if klass is None:
        defaults = [n for n, sc in sorted(found.classes.items()) if sc.default]
        if not defaults:
            return (
                f"{need.what} names no StorageClass and the plan has no default one (EKS "
                ">= 1.30 creates none): the claim stays Pending. Add a StorageClass "
                'annotated storageclass.kubernetes.io/is-default-class: "true".'
            )
        klass = defaults[0]
    sc = found.classes.get(klass)
    if sc is None:
        return (
            f"{need.what} asks for StorageClass {klass!r}, which the plan does not "
            "create: the claim stays Pending."
        )
    provisioner = sc.provisioner
    if hidden(provisioner) or not isinstance(provisioner, str):
        return f"StorageClass {klass!r}'s provisioner cannot be seen ({provisioner!r})."
    driver = MIGRATED.get(provisioner, provisioner)
    if driver not in found.drivers:
        return (
            f"{need.what} gets its volume from StorageClass {klass!r}, whose CSI driver "
            f"{driver} nothing in the plan installs (an EKS add-on or its chart): the "
            "claim stays Pending."
        )
    return None


def _check(args: StackValidationArgs, report: ReportViolation) -> None:
    objs = [(r, o) for r in args.resources for o in objects(r.resource_type, r.name, r.props)]
    found = providers(args, objs, report)
    wanted = needs(args, objs, found)
    if wanted and len(resources_of(args, EKS)) > 1:
        report(
            "The stack creates more than one EKS cluster: which one provides the "
            "capabilities its objects need is not in the plan; split the stack.",
            None,
        )
        return
    seen: set[tuple[str, str]] = set()
    for need in wanted:
        if need.unseen:
            message = (
                f"{need.what}: {need.unseen} cannot be seen, so what it needs from "
                "the cluster cannot be checked."
            )
        elif need.capability:
            if need.capability in found.capabilities:
                continue
            message = f"{need.what} needs {NEEDS[need.capability]}."
        else:
            problem = _check_claim(need, found)
            if problem is None:
                continue
            message = problem
        if (need.resource.urn, message) not in seen:
            seen.add((need.resource.urn, message))
            report(message, need.resource.urn)


TYPES_READ = (
    ADDON,
    EKS,
    NODE_GROUP,
    *CHARTS,
    "kubernetes:storage.k8s.io/v1:StorageClass",
    "kubernetes:storage.k8s.io/v1:CSIDriver",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
    "kubernetes:networking.k8s.io/v1:Ingress",
    "kubernetes:networking.k8s.io/v1:IngressClass",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:core/v1:ResourceQuota",
    "kubernetes:apiregistration.k8s.io/v1:APIService",
)

POLICIES: list[Policy] = [
    stack_policy(
        "cluster-capabilities",
        "Objects that need a cluster capability (metrics, storage, load balancers, GPUs, "
        "NetworkPolicy enforcement, node autoscaling) find what provides it in the plan.",
        _check,
        types=TYPES_READ,
        remediation="Install the provider the message names in the same stack (an EKS "
        "add-on, a pinned Helm chart, or its objects), or drop the object that needs it.",
    ),
]
