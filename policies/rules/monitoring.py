"""Scrape targets: every ServiceMonitor and PodMonitor of the plan reaches a port that is
declared, behind which something answers Prometheus.

* **What a monitor selects.** A ServiceMonitor selects Services of the plan
  (``selector`` on their labels, ``namespaceSelector``: ``any``, ``matchNames``, or the
  monitor's own namespace when unset); a PodMonitor selects pod templates of the plan:
  workloads (`k8s.pod_specs`) and the predictor pods KServe makes, which carry
  ``serving.kserve.io/inferenceservice: <name>``, ``component: predictor`` and
  ``app: isvc.<name>-predictor`` (KServe v0.20, ``pkg/constants``) and run the
  containers of the serving runtime: one per InferenceService of the plan, and one
  per runtime for the models deployed later (any InferenceService name; any namespace
  for a ClusterServingRuntime).
* **A declared port.** A ServiceMonitor endpoint's ``port`` is a Service port's name
  (``targetPort``, deprecated, a port of the pods behind it); a PodMonitor endpoint's
  ``port`` is a container port's name, ``portNumber`` / ``targetPort`` its number (or
  name). The Prometheus Operator keeps only targets whose declared port matches: a port
  no selected object declares gives no target at all.
* **A target that answers.** When the container behind the port runs an MLflow tracking
  server on it, the scrape passes MLflow's checks as MLflow 3.17 makes them
  (``mlflow/server/security_utils.py``, ``mlflow/server/auth/__init__.py``): the Host
  header, which Prometheus sets to the target address ``<pod IP>:<port>``, matches
  ``--allowed-hosts`` / ``MLFLOW_SERVER_ALLOWED_HOSTS`` (exact, or fnmatch with ``*``;
  with neither, MLflow's defaults admit private addresses), unless the security
  middleware is off; with the auth app, the scrape carries basic-auth credentials
  (401 without), never the admin's, and since fail-closed authorization
  (``MLFLOW_BASIC_AUTH_FAIL_CLOSED``, on by default from 3.16) no user but an admin may
  read /metrics, which no permission grants: a non-admin gets 403.

The scrape must also get there: Prometheus runs in the monitor's namespace (where
kube-prometheus-stack installs it and its monitors), and the NetworkPolicies that select
the target's pods must admit that namespace on the target's port, or the scrape times out.

Anything the pack cannot read where the answer depends on it (a hidden selector, a
Service whose pods are not in the plan, a username in a secret) is a violation.
"""

from __future__ import annotations

import base64
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import Policy, ReportViolation, StackValidationArgs

from .common import SECRET, as_dict, as_int, as_list, get, stack_policy
from .k8s import KSERVE_GROUP, Object, hidden, pod_labels, pod_specs
from .network import (
    DEFAULT_AUTH_APPS,
    Placed,
    ingress_policies_for,
    mlflow_auth_app,
    mlflow_server,
    namespace_of,
    stack_objects,
)

MONITORING_GROUP = "monitoring.coreos.com"
SERVICE_MONITOR = "ServiceMonitor"
POD_MONITOR = "PodMonitor"
# labels KServe puts on the pods of an InferenceService's predictor (pkg/constants)
ISVC_LABEL = "serving.kserve.io/inferenceservice"
ANY = object()  # a label value or namespace the plan leaves open (a model deployed later)
MLFLOW_DEFAULT_PORT = 5000
MLFLOW_ADMIN = "admin"  # basic_auth.ini admin_username, MLflow's default and the platform's
# the Host headers Prometheus could send for a pod in a VPC (RFC 1918): all must pass
SAMPLE_POD_IPS = ("10.0.1.23", "172.16.1.23", "192.168.1.23")
POD_IP = "<pod IP>"
VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
# labels of the Prometheus pods kube-prometheus-stack runs (what a podSelector may ask for)
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# MLflow's paths outside the host check and the auth app
MLFLOW_OPEN_PATHS = ("/health", "/version")


@dataclass
class Template:
    """Pods the plan makes: where, with which labels, running which containers."""

    what: str
    namespace: Any  # a name, or ANY
    labels: Mapping[str, Any]
    containers: list[Mapping[str, Any]] = field(default_factory=list)


def _ns_matches(selector: Any, monitor_ns: str, namespace: Any) -> bool | None:
    if selector is None or (isinstance(selector, Mapping) and not selector):
        return namespace is ANY or namespace == monitor_ns
    if not isinstance(selector, Mapping):
        return None
    if selector.get("any") is True:
        return True
    names = selector.get("matchNames")
    if names is not None and (isinstance(names, str) or not isinstance(names, Sequence)):
        return None
    return namespace is ANY or namespace in [str(n) for n in as_list(names)]


def _selects(selector: Any, labels: Mapping[str, Any]) -> bool | None:
    """A label selector against labels whose values may be ANY (a value the plan leaves
    open matches whatever the selector asks of it); None when it cannot be read."""
    if not isinstance(selector, Mapping):
        return None
    match = selector.get("matchLabels")
    if match is not None and not isinstance(match, Mapping):
        return None
    for key, value in as_dict(match).items():
        if key not in labels or (labels[key] is not ANY and labels[key] != value):
            return False
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        key, op = expr.get("key"), expr.get("operator")
        values = [str(v) for v in as_list(expr.get("values"))]
        have = labels.get(key)
        if op == "In" and not (key in labels and (have is ANY or have in values)):
            return False
        if op == "NotIn" and key in labels and have is not ANY and have in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return None
    return True


def _runtime_containers(obj: Object) -> list[Mapping[str, Any]]:
    return [as_dict(c) for c in as_list(get(obj.props, "spec", "containers"))]


def templates(placed: list[Placed]) -> list[Template]:
    """The pod templates of the plan (see the module docstring)."""
    out: list[Template] = []
    runtimes: dict[tuple[Any, str], Object] = {}
    for p in placed:
        obj = p.obj
        if obj.group == KSERVE_GROUP and obj.kind in ("ServingRuntime", "ClusterServingRuntime"):
            cluster = obj.kind == "ClusterServingRuntime"
            ns = ANY if cluster else p.namespace
            runtimes[(None if cluster else ns, str(obj.name))] = obj
            out.append(
                Template(
                    f"{obj.kind} '{obj.name}' (the predictors it will run)",
                    ns,
                    {ISVC_LABEL: ANY, "component": "predictor", "app": ANY},
                    _runtime_containers(obj),
                )
            )
    for p in placed:
        obj = p.obj
        if obj.group == KSERVE_GROUP and obj.kind == "InferenceService":
            name = str(obj.name)
            predictor = as_dict(get(obj.props, "spec", "predictor"))
            runtime = get(predictor, "model", "runtime")
            chosen = runtimes.get((p.namespace, str(runtime))) or runtimes.get((None, str(runtime)))
            containers = [as_dict(c) for c in as_list(predictor.get("containers"))]
            if chosen is not None:
                containers = _runtime_containers(chosen) + containers
            labels = {
                **as_dict(get(obj.props, "metadata", "labels")),
                **as_dict(predictor.get("labels")),
                ISVC_LABEL: name,
                "component": "predictor",
                "app": f"isvc.{name}-predictor",
            }
            out.append(
                Template(
                    f"InferenceService '{p.namespace}/{name}' predictor",
                    p.namespace,
                    labels,
                    containers,
                )
            )
        elif obj.group in ("", "core", "apps", "batch"):
            for pod in pod_specs(obj):
                out.append(
                    Template(
                        f"{obj.kind} '{p.namespace}/{obj.name}'",
                        p.namespace,
                        pod_labels(obj),
                        [c.spec for c in pod.containers if not c.init],
                    )
                )
    return out


def _ports(container: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [as_dict(port) for port in as_list(container.get("ports"))]


def port_ref(value: Any) -> Any:
    """A port reference as Kubernetes reads it: a number (JSON gives 8082.0), else a name."""
    number = as_int(value)
    return number if number is not None else value


Target = tuple[Mapping[str, Any], "int | None", Any]  # container, port number, port name


def declaring(template: Template, ref: Any) -> list[Target]:
    """(container, port number, port name) of the containers that declare port ``ref`` (a
    name, or a number)."""
    ref = port_ref(ref)
    out = []
    for c in template.containers:
        for port in _ports(c):
            number = as_int(port.get("containerPort"))
            if (isinstance(ref, int) and number == ref) or (
                not isinstance(ref, int) and port.get("name") == ref
            ):
                out.append((c, number, port.get("name")))
    return out


# ------------------------------------------------------------------ getting there


def _namespace_labels(placed: list[Placed], name: str) -> dict[str, Any]:
    labels: dict[str, Any] = {NAMESPACE_NAME_LABEL: name}
    for p in placed:
        if p.obj.kind == "Namespace" and p.obj.group in ("", "core") and p.obj.name == name:
            labels = {**as_dict(get(p.obj.props, "metadata", "labels")), **labels}
    return labels


def _admits_port(rule: Mapping[str, Any], number: int | None, name: Any) -> bool:
    ports = as_list(rule.get("ports"))
    if not ports:
        return True
    for entry in ports:
        entry = as_dict(entry)
        if str(entry.get("protocol", "TCP")) != "TCP":
            continue
        port = port_ref(entry.get("port"))
        if port is None:
            return True
        if isinstance(port, int) and number is not None:
            end = as_int(entry.get("endPort")) or port
            if port <= number <= end:
                return True
        elif port == name:
            return True
    return False


def _admits_peer(peer: Any, policy_ns: str, monitor_ns: str, ns_labels: Mapping[str, Any]) -> bool:
    if not isinstance(peer, Mapping) or "ipBlock" in peer:
        return False
    ns_selector, pod_selector = peer.get("namespaceSelector"), peer.get("podSelector")
    if ns_selector is None:
        if monitor_ns != policy_ns:
            return False
    elif _selects(ns_selector, ns_labels) is not True:
        return False
    return pod_selector is None or _selects(pod_selector, PROMETHEUS_POD_LABELS) is True


def unreachable(
    placed: list[Placed], template: Template, number: int | None, name: Any, monitor_ns: str
) -> str | None:
    """Why the NetworkPolicies of the target's namespace drop Prometheus' connection."""
    if template.namespace is ANY:
        return None  # pods of namespaces the plan does not name: their policies are unknown
    policies, unseen = ingress_policies_for(placed, str(template.namespace), dict(template.labels))
    if not policies and not unseen:
        return None
    ns_labels = _namespace_labels(placed, monitor_ns)
    for policy in policies:
        for rule in as_list(get(policy.obj.props, "spec", "ingress")):
            rule = as_dict(rule)
            peers = as_list(rule.get("from"))
            if _admits_port(rule, number, name) and (
                not peers
                or any(
                    _admits_peer(peer, str(template.namespace), monitor_ns, ns_labels)
                    for peer in peers
                )
            ):
                return None
    if unseen:
        return f"the pack cannot read {', '.join(unseen)}, which may admit Prometheus"
    shown = ", ".join(f"'{p.obj.name}'" for p in policies)
    return (
        f"no NetworkPolicy selecting its pods ({shown}) admits namespace '{monitor_ns}', "
        f"where Prometheus runs, on port {name or number}: the scrape times out"
    )


# ------------------------------------------------------------------ MLflow's checks


def _arg(container: Mapping[str, Any], flag: str) -> Any:
    args = [str(a) for a in [*as_list(container.get("command")), *as_list(container.get("args"))]]
    value = None
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            value = args[i + 1]
        elif a.startswith(f"{flag}="):
            value = a.split("=", 1)[1]
    return value


def _env(container: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(get(e, "name")): as_dict(e) for e in as_list(container.get("env"))}


def mlflow_port(container: Mapping[str, Any]) -> int | None:
    value = _arg(container, "--port")
    return MLFLOW_DEFAULT_PORT if value is None else as_int(value)


def _expand(text: str, env: Mapping[str, Mapping[str, Any]]) -> str:
    """Kubernetes' $(VAR) expansion: the downward API's pod IP becomes POD_IP."""

    def sub(m: re.Match[str]) -> str:
        var = env.get(m.group(1))
        if var is None:
            return m.group(0)
        if get(var, "valueFrom", "fieldRef", "fieldPath") in ("status.podIP", "status.podIPs"):
            return POD_IP
        value = var.get("value")
        return value if isinstance(value, str) else m.group(0)

    return VAR.sub(sub, text)


def host_refusal(container: Mapping[str, Any], port: int) -> str | None:
    """Why MLflow's host check refuses '<pod IP>:<port>' (None when it admits it)."""
    env = _env(container)
    if str(get(env.get("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE"), "value")).lower() == "true":
        return None
    value = _arg(container, "--allowed-hosts")
    source = "--allowed-hosts"
    if value is None and "MLFLOW_SERVER_ALLOWED_HOSTS" in env:
        value = env["MLFLOW_SERVER_ALLOWED_HOSTS"].get("value")
        source = "MLFLOW_SERVER_ALLOWED_HOSTS"
        if value is None or hidden(value):
            return f"the pack cannot see {source}, which decides the Host headers it admits"
    if value is None or value == "":
        return None  # MLflow's defaults: localhost and the private ranges
    if hidden(value):
        return f"the pack cannot see {source}, which decides the Host headers it admits"
    allowed = [_expand(h.strip(), env) for h in str(value).split(",")]
    if "*" in allowed or f"{POD_IP}:{port}" in allowed:
        return None
    patterns = [h for h in allowed if "*" in h and POD_IP not in h]
    if all(any(fnmatch.fnmatch(f"{ip}:{port}", h) for h in patterns) for ip in SAMPLE_POD_IPS):
        return None
    shown = ", ".join(allowed)
    return (
        f"MLflow's host check answers 403 to the Host header Prometheus sends "
        f"('{POD_IP}:{port}', the target address): {source} admits only {shown}"
    )


def _secret_value(placed: list[Placed], namespace: str, ref: Any) -> tuple[Any, str]:
    """The value a SecretKeySelector names, and how to name it; SECRET when unreadable."""
    name, key = get(ref, "name"), get(ref, "key")
    label = f"Secret '{namespace}/{name}' key '{key}'"
    for p in placed:
        if p.obj.kind != "Secret" or p.obj.group not in ("", "core"):
            continue
        if p.namespace != namespace or p.obj.name != name:
            continue
        string_data = p.obj.props.get("stringData")
        if isinstance(string_data, Mapping) and key in string_data:
            return string_data[key], label
        data = p.obj.props.get("data")
        if isinstance(data, Mapping) and key in data:
            raw = data[key]
            if isinstance(raw, str) and not hidden(raw):
                try:
                    return base64.b64decode(raw).decode(), label
                except ValueError:
                    return SECRET, label
            return SECRET, label
        return SECRET, label
    return None, label


def auth_refusal(
    container: Mapping[str, Any], endpoint: Mapping[str, Any], placed: list[Placed], monitor_ns: str
) -> str | None:
    """Why MLflow's auth app refuses the scrape, or scrapes as admin (None: it answers)."""
    if not mlflow_auth_app(container, DEFAULT_AUTH_APPS):
        return None
    basic = endpoint.get("basicAuth")
    if basic is None:
        return "MLflow's auth app answers 401: the endpoint sends no basic-auth credentials"
    user, label = _secret_value(placed, monitor_ns, get(basic, "username"))
    if user is None:
        return f"its basic-auth username ({label}) is not a Secret of the plan"
    if not isinstance(user, str) or hidden(user):
        return f"the pack cannot see its basic-auth username ({label}): it may be MLflow's admin"
    if user == MLFLOW_ADMIN:
        return (
            f"it scrapes as MLflow's admin ('{user}', {label}): Prometheus would hold "
            "the account that manages every user and permission"
        )
    fail_closed = get(_env(container).get("MLFLOW_BASIC_AUTH_FAIL_CLOSED"), "value")
    if str(fail_closed).lower() not in ("false", "0"):
        return (
            f"MLflow answers 403 to user '{user}': with fail-closed authorization "
            "(MLFLOW_BASIC_AUTH_FAIL_CLOSED, the default since 3.16) no permission grants "
            "/metrics and only admins may read it"
        )
    return None


def refusals(
    template: Template,
    container: Mapping[str, Any],
    port: int | None,
    endpoint: Mapping[str, Any],
    placed: list[Placed],
    monitor_ns: str,
) -> list[str]:
    """Why the target (a container port of ``template``) would not answer the scrape."""
    if not mlflow_server(container):
        return []
    served = mlflow_port(container)
    if served is None:
        return [f"the pack cannot see the port MLflow listens on in {template.what}"]
    if port != served:
        return []
    path = endpoint.get("path") or "/metrics"
    if path in MLFLOW_OPEN_PATHS:
        return []
    out = []
    host = host_refusal(container, served)
    if host:
        out.append(host)
    auth = auth_refusal(container, endpoint, placed, monitor_ns)
    if auth:
        out.append(auth)
    return out


# ------------------------------------------------------------------ the rule


def _service_ports(svc: Object) -> list[Mapping[str, Any]]:
    return [as_dict(p) for p in as_list(get(svc.props, "spec", "ports"))]


def _check_service_monitor(
    mon: Placed, label: str, placed: list[Placed], pods: list[Template], report: ReportViolation
) -> None:
    spec = as_dict(mon.obj.props.get("spec"))
    monitor_ns = mon.namespace or "default"
    services = []
    for p in placed:
        if p.obj.kind != "Service" or p.obj.group not in ("", "core"):
            continue
        in_ns = _ns_matches(spec.get("namespaceSelector"), monitor_ns, p.namespace)
        chosen = _selects(spec.get("selector"), as_dict(get(p.obj.props, "metadata", "labels")))
        if in_ns is None or chosen is None:
            report(
                f"{label}: the pack cannot read its selector or namespaceSelector.",
                mon.resource.urn,
            )
            return
        if in_ns and chosen:
            services.append(p)
    if not services:
        report(
            f"{label} selects no Service of the plan: Prometheus has no target.", mon.resource.urn
        )
        return
    for i, endpoint in enumerate(as_list(spec.get("endpoints"))):
        endpoint = as_dict(endpoint)
        port, target_port = endpoint.get("port"), port_ref(endpoint.get("targetPort"))
        if port is None and target_port is None:
            report(f"{label} endpoint {i} names no port.", mon.resource.urn)
            continue
        found = False
        for svc in services:
            svc_name = f"Service '{svc.namespace}/{svc.obj.name}'"
            refs = (
                [
                    sp.get("targetPort", sp.get("port"))
                    for sp in _service_ports(svc.obj)
                    if sp.get("name") == port
                ]
                if port is not None
                else [target_port]
            )
            if not refs:
                continue
            selector = get(svc.obj.props, "spec", "selector")
            behind = [
                t
                for t in pods
                if t.namespace == svc.namespace
                and isinstance(selector, Mapping)
                and selector
                and _selects({"matchLabels": selector}, t.labels)
            ]
            if not behind:
                report(
                    f"{label} endpoint '{port or target_port}': the pack cannot see the pods "
                    f"behind {svc_name} (no workload of the plan matches its selector), so "
                    "it cannot tell whether they answer.",
                    mon.resource.urn,
                )
                found = True
                continue
            for ref in refs:
                for t in behind:
                    targets = declaring(t, ref)
                    if port is None and not targets:
                        continue
                    found = True
                    number = as_int(ref)
                    if not targets and number is not None:
                        # a Service may forward to a number no container declares
                        targets = [
                            (c, number, None)
                            for c in t.containers
                            if mlflow_server(c) and mlflow_port(c) == number
                        ]
                    for c, number, name in targets:
                        why_not = [
                            unreachable(placed, t, number, name, monitor_ns),
                            *refusals(t, c, number, endpoint, placed, monitor_ns),
                        ]
                        for why in filter(None, why_not):
                            report(
                                f"{label} endpoint '{port or target_port}' scrapes "
                                f"{t.what} through {svc_name}, but {why}.",
                                mon.resource.urn,
                            )
        if not found:
            declared = "; ".join(
                f"'{s.namespace}/{s.obj.name}': "
                f"{[sp.get('name', sp.get('port')) for sp in _service_ports(s.obj)]}"
                for s in services
            )
            what = f"port '{port}'" if port is not None else f"targetPort '{target_port}'"
            report(
                f"{label} endpoint {what} is declared by none of the Services it selects "
                f"({declared}): Prometheus has no target.",
                mon.resource.urn,
            )


def _check_pod_monitor(
    mon: Placed, label: str, placed: list[Placed], pods: list[Template], report: ReportViolation
) -> None:
    spec = as_dict(mon.obj.props.get("spec"))
    monitor_ns = mon.namespace or "default"
    selected = []
    for t in pods:
        in_ns = _ns_matches(spec.get("namespaceSelector"), monitor_ns, t.namespace)
        chosen = _selects(spec.get("selector"), t.labels)
        if in_ns is None or chosen is None:
            report(
                f"{label}: the pack cannot read its selector or namespaceSelector.",
                mon.resource.urn,
            )
            return
        if in_ns and chosen:
            selected.append(t)
    if not selected:
        report(
            f"{label} selects no pod template of the plan (workload, or predictor of a "
            "KServe runtime): Prometheus has no target.",
            mon.resource.urn,
        )
        return
    for i, endpoint in enumerate(as_list(spec.get("podMetricsEndpoints"))):
        endpoint = as_dict(endpoint)
        ref = port_ref(
            next(
                (
                    endpoint[k]
                    for k in ("port", "portNumber", "targetPort")
                    if endpoint.get(k) is not None
                ),
                None,
            )
        )
        if ref is None:
            report(f"{label} endpoint {i} names no port.", mon.resource.urn)
            continue
        found = False
        for t in selected:
            for c, number, name in declaring(t, ref):
                found = True
                why_not = [
                    unreachable(placed, t, number, name, monitor_ns),
                    *refusals(t, c, number, endpoint, placed, monitor_ns),
                ]
                for why in filter(None, why_not):
                    report(
                        f"{label} endpoint '{ref}' scrapes {t.what}, but {why}.", mon.resource.urn
                    )
        if not found:
            declared = "; ".join(
                f"{t.what}: {[p.get('name', p.get('containerPort')) for c in t.containers for p in _ports(c)]}"  # noqa: E501
                for t in selected
            )
            report(
                f"{label} endpoint port '{ref}' is declared by none of the pods it selects "
                f"({declared}): Prometheus has no target.",
                mon.resource.urn,
            )


def _check_scrape_targets(args: StackValidationArgs, report: ReportViolation) -> None:
    placed = stack_objects(args)
    monitors = [
        p
        for p in placed
        if p.obj.group == MONITORING_GROUP and p.obj.kind in (SERVICE_MONITOR, POD_MONITOR)
    ]
    if not monitors:
        return
    pods = templates(placed)
    for mon in monitors:
        ns = namespace_of(mon.obj)
        label = f"{mon.obj.prefix()}{mon.obj.kind} '{ns}/{mon.obj.name}'"
        if ns is None:
            report(f"{label}: the pack cannot see its namespace.", mon.resource.urn)
            continue
        if mon.obj.kind == SERVICE_MONITOR:
            _check_service_monitor(mon, label, placed, pods, report)
        else:
            _check_pod_monitor(mon, label, placed, pods, report)


POLICIES: list[Policy] = [
    stack_policy(
        "k8s-scrape-target-answers",
        "Every ServiceMonitor and PodMonitor selects a Service or pod template of the plan "
        "that declares the port it names, and the target would answer: its NetworkPolicies "
        "admit Prometheus on that port, and an MLflow server admits the Host header "
        "Prometheus sends and is scraped without its admin account.",
        _check_scrape_targets,
        types=(
            "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
            "kubernetes:monitoring.coreos.com/v1:PodMonitor",
            "kubernetes:core/v1:Service",
            "kubernetes:core/v1:Secret",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        ),
        remediation="Name a port the selected Service or container declares; scrape MLflow "
        "through a port without its host check and login (a metrics sidecar), or list the "
        "pod IP in --allowed-hosts and give Prometheus a user that is not the admin.",
    ),
]
