"""Objects a fail-closed admission webhook intercepts are written after the webhook answers.

A chart that installs a webhook configuration with ``failurePolicy: Fail`` makes the API
server refuse every object the webhook intercepts until the webhook's pods are ready
("failed calling webhook ...: no endpoints available for service ..."). Pulumi writes
objects in parallel, so an object the plan does not order after the release races it: the
first ``pulumi up`` fails, or not, depending on timing; so does a later one that creates an
object while the release is being upgraded.

*Ordered* means the release is among what the object waits for (its dependencies, its
property dependencies, its provider and what that provider waits for, transitively), or
the object is among what the release waits for (it exists before the webhook does).

The webhooks, from the charts' templates at the versions the platform pins (read
2026-11-30):

* ``aws-load-balancer-controller`` 3.5.0 (``templates/webhook.yaml``): ``mservice`` mutates
  every Service on CREATE (``enableServiceMutatorWebhook`` true,
  ``serviceMutatorWebhookConfig.failurePolicy`` Fail; the controller's own objects are
  exempt by label), ``vingress`` validates every Ingress (``webhookConfig.
  disableIngressValidation`` unset, ``ingressValdationFailurePolicy`` Fail),
  TargetGroupBindings and IngressClassParams (Fail);
* ``cert-manager``: ``webhook.cert-manager.io`` on every object of ``cert-manager.io`` and
  ``acme.cert-manager.io`` (Fail);
* ``kserve-resources`` (``kserve`` before v0.15): InferenceService, TrainedModel,
  InferenceGraph, ServingRuntime, ClusterServingRuntime (validating and defaulting
  webhooks, Fail);
* ``kube-prometheus-stack`` 79.5.0: PrometheusRules, Ignore by default (its patch Job),
  Fail when ``prometheusOperator.admissionWebhooks.failurePolicy`` says so or the patch
  Job is off.

Every chart whose inventory (``infra/**/inventory*.yaml``) lists a webhook configuration
has an entry here (asserted by the rule's tests), so the next chart with a webhook is not
silently left out.

Another Helm release writes objects the pack cannot list (the chart's templates are not in
the plan), so it counts as writing a Service unless its chart installs CRDs only: nearly
every chart runs a Service, and the first one the webhook refuses fails the release.
Values the rule cannot read count as the chart's defaults (the webhook on, Fail).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Policy, PolicyResource, ReportViolation, StackValidationArgs

from .capabilities import CHARTS, chart_name
from .common import as_dict, get, stack_policy
from .k8s import YAML_GROUPS, expand_group, hidden, objects

LB = "aws-load-balancer-controller"
LB_LABEL = ("app.kubernetes.io/name", "aws-load-balancer-controller")
# charts that write CustomResourceDefinitions only (no Service the webhooks would see)
CRD_ONLY_CHARTS = frozenset({"kserve-crd"})
WRITES_SERVICE = ("core", "Service")


@dataclass(frozen=True)
class Hook:
    name: str
    groups: tuple[str, ...]
    kinds: tuple[str, ...]  # () = every kind of the groups
    # whether the release's values turn it on and make it fail closed (None: cannot be read)
    fails_closed: Callable[[Mapping[str, Any]], bool] = lambda values: True

    def intercepts(self, group: str, kind: str) -> bool:
        return group in self.groups and (not self.kinds or kind in self.kinds)


def _lb_services(values: Mapping[str, Any]) -> bool:
    enabled = get(values, "enableServiceMutatorWebhook")
    policy = get(values, "serviceMutatorWebhookConfig", "failurePolicy")
    return enabled is not False and policy != "Ignore"


def _lb_ingresses(values: Mapping[str, Any]) -> bool:
    disabled = get(values, "webhookConfig", "disableIngressValidation")
    policy = get(values, "webhookConfig", "ingressValdationFailurePolicy")
    return disabled is not True and policy != "Ignore"


WEBHOOKS: dict[str, tuple[Hook, ...]] = {
    LB: (
        Hook("mservice.elbv2.k8s.aws", ("core",), ("Service",), _lb_services),
        Hook("vingress.elbv2.k8s.aws", ("networking.k8s.io",), ("Ingress",), _lb_ingresses),
        Hook("vtargetgroupbinding.elbv2.k8s.aws", ("elbv2.k8s.aws",), ("TargetGroupBinding",)),
        Hook("vingressclassparams.elbv2.k8s.aws", ("elbv2.k8s.aws",), ("IngressClassParams",)),
    ),
    "cert-manager": (
        Hook("webhook.cert-manager.io", ("cert-manager.io", "acme.cert-manager.io"), ()),
    ),
}
# KServe's chart is `kserve-resources` since v0.15 (`kserve` before): the same webhooks
KSERVE_HOOKS = (
    Hook(
        "serving.kserve.io webhooks",
        ("serving.kserve.io",),
        (
            "InferenceService",
            "TrainedModel",
            "InferenceGraph",
            "ServingRuntime",
            "ClusterServingRuntime",
        ),
    ),
)
WEBHOOKS |= {"kserve": KSERVE_HOOKS, "kserve-resources": KSERVE_HOOKS}


# the values that decide whether the operator's webhook fails closed
_PROMETHEUS_HOOK_VALUES = (
    ("prometheusOperator",),
    ("prometheusOperator", "enabled"),
    ("prometheusOperator", "admissionWebhooks"),
    ("prometheusOperator", "admissionWebhooks", "enabled"),
    ("prometheusOperator", "admissionWebhooks", "failurePolicy"),
    ("prometheusOperator", "admissionWebhooks", "patch"),
    ("prometheusOperator", "admissionWebhooks", "patch", "enabled"),
)


def _prometheus_rules(values: Mapping[str, Any]) -> bool:
    if any(hidden(get(values, *path)) for path in _PROMETHEUS_HOOK_VALUES):
        return True  # a value it cannot see counts as the webhook failing closed
    operator = as_dict(get(values, "prometheusOperator"))
    hooks = as_dict(operator.get("admissionWebhooks"))
    if operator.get("enabled") is False or hooks.get("enabled") is False:
        return False
    policy = hooks.get("failurePolicy") or ""
    if policy:
        # IgnoreOnInstallOnly: Ignore on the first install, the race this rule is about
        return policy == "Fail"
    # unset: Ignore while the patch Job (the default) sets up the certificates, else Fail
    return as_dict(hooks.get("patch")).get("enabled") is False


# kube-prometheus-stack 79.5.0 (templates/prometheus-operator/admission-webhooks/
# {validating,mutating}WebhookConfiguration.yaml): PrometheusRules, Ignore by default
WEBHOOKS["kube-prometheus-stack"] = (
    Hook(
        "prometheusrule{validate,mutate}.monitoring.coreos.com",
        ("monitoring.coreos.com",),
        ("PrometheusRule",),
        _prometheus_rules,
    ),
)


@dataclass(frozen=True)
class Write:
    resource: PolicyResource
    group: str
    kind: str
    label: str  # how a message names it
    labels: Mapping[str, Any]


def _writes(args: StackValidationArgs) -> Iterator[Write]:
    for r in args.resources:
        if r.resource_type in CHARTS:
            chart = chart_name(r.props)
            if chart not in CRD_ONLY_CHARTS:
                yield Write(
                    r,
                    *WRITES_SERVICE,
                    f"Helm release '{r.name}' (chart {chart}, whose Services)",
                    {},
                )
            continue
        if r.resource_type.startswith("kubernetes:kustomize") or (
            r.resource_type in YAML_GROUPS and expand_group(r.resource_type, r.name, r.props).unseen
        ):
            # objects read from files or a directory at deploy time: not listed here
            kind = r.resource_type.rsplit(":", 1)[-1]
            yield Write(
                r,
                *WRITES_SERVICE,
                f"{kind} '{r.name}' (whose objects, Services among them, the plan does not list)",
                {},
            )
        for obj in objects(r.resource_type, r.name, r.props):
            labels = as_dict(get(obj.props, "metadata", "labels"))
            yield Write(r, obj.group, obj.kind, f"{obj.prefix()}{obj.kind} '{obj.name}'", labels)


# Components a provider builds (Construct): the SDK registers one only once its
# dependencies are done, and the provider writes its children after, so a child waits for
# what its component waits for, although its own dependencies do not list it.
REMOTE_COMPONENTS = frozenset(
    {
        "kubernetes:kustomize/v2:Directory",
        "kubernetes:yaml/v2:ConfigGroup",
        "kubernetes:yaml/v2:ConfigFile",
        "kubernetes:helm.sh/v4:Chart",
    }
)


class Waits:
    """What each resource waits for before Pulumi writes it (transitively), a remote
    component's children included (`REMOTE_COMPONENTS`)."""

    def __init__(self, args: StackValidationArgs) -> None:
        self._by_urn = {r.urn: r for r in args.resources}
        self._memo: dict[str, frozenset[str]] = {}

    def _direct(self, urn: str) -> set[str]:
        r = self._by_urn.get(urn)
        if r is None:
            return set()
        out = {d.urn for d in r.dependencies}
        for deps in r.property_dependencies.values():
            out |= {d.urn for d in deps or []}
        if r.provider is not None:
            out.add(r.provider.urn)
        if r.parent is not None and r.parent.resource_type in REMOTE_COMPONENTS:
            out.add(r.parent.urn)
        return out

    def on(self, urn: str) -> frozenset[str]:
        if urn not in self._memo:
            seen: set[str] = set()
            todo = list(self._direct(urn))
            while todo:
                u = todo.pop()
                if u in seen:
                    continue
                seen.add(u)
                todo += self._direct(u) - seen
            self._memo[urn] = frozenset(seen)
        return self._memo[urn]


def _check(args: StackValidationArgs, report: ReportViolation) -> None:
    hooks: list[tuple[PolicyResource, str, Hook]] = []
    for release in (r for r in args.resources if r.resource_type in CHARTS):
        chart = chart_name(release.props)
        values = release.props.get("values")
        for hook in WEBHOOKS.get(chart or "", ()):
            # unreadable values count as the chart's defaults: the webhook on, Fail
            if hidden(values) or hook.fails_closed(as_dict(values)):
                hooks.append((release, chart or "", hook))
    if not hooks:
        return
    waits = Waits(args)
    for write in _writes(args):
        for release, chart, hook in hooks:
            if write.resource.urn == release.urn or not hook.intercepts(write.group, write.kind):
                continue
            if chart == LB and write.labels.get(LB_LABEL[0]) == LB_LABEL[1]:
                continue  # the controller's own objects are exempt (objectSelector)
            if release.urn in waits.on(write.resource.urn) or write.resource.urn in waits.on(
                release.urn
            ):
                continue
            report(
                f"{write.label} is admitted by {chart}'s webhook {hook.name} (failurePolicy "
                f"Fail), but the plan does not order it after Helm release '{release.name}': "
                "while the webhook's pods start, the API server refuses it (failed calling "
                "webhook). Make it wait for the release (depends_on, or a provider that "
                "does).",
                write.resource.urn,
            )


TYPES_READ = (
    *CHARTS,
    *YAML_GROUPS,
    "kubernetes:kustomize/v2:Directory",
    "kubernetes:core/v1:Service",
    "kubernetes:networking.k8s.io/v1:Ingress",
    "kubernetes:cert-manager.io/v1:Certificate",
    "kubernetes:cert-manager.io/v1:Issuer",
    "kubernetes:cert-manager.io/v1:ClusterIssuer",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    "kubernetes:serving.kserve.io/v1alpha1:ServingRuntime",
    "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime",
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
)

POLICIES: list[Policy] = [
    stack_policy(
        "k8s-admitted-after-webhook",
        "Objects a fail-closed admission webhook intercepts (load balancer controller, "
        "cert-manager, KServe, the Prometheus operator) are written after the release that "
        "installs the webhook.",
        _check,
        types=TYPES_READ,
        remediation="Order the object after the release: depends_on it, or create it with "
        "a Kubernetes provider that depends on it.",
    ),
]
