"""Monitoring: kube-prometheus-stack (pinned), scrape targets for the platform's
services, serving and drift dashboards, and alert rules.

* ServiceMonitors for MLflow (its metrics sidecar's port) and the Feast feature server
  (``feast serve --metrics``); a PodMonitor for KServe predictors, whose MLServer
  serves metrics on a port of its own that the runtime declares as ``metrics``
  (`infra.services.kserve.component.METRICS_PORT_NAME`): a monitor names a declared
  port, or Prometheus has no target.
* A Pushgateway (native objects) that the drift pipeline pushes
  ``mlops_drift_share{model=...}`` to, so drift is a metric like any other.
* Grafana dashboards as ConfigMaps the Grafana sidecar loads (label
  ``grafana_dashboard: "1"``); per team, its serving dashboard in a folder of its own
  (annotation ``grafana_folder``), each query selecting the team's namespace. Grafana's
  Prometheus datasource still answers any query for any namespace: the folder is a view,
  not a boundary (docs/threat-model.md). PrometheusRules for p99 latency, error rate and
  drift.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from infra.base.config import Resources
from infra.base.isolation import SAME_NAMESPACE, Allow, Isolation, isolate, namespace_peer
from infra.base.k8s import (
    MANAGED_BY,
    container_security_context,
    labels,
    pod_security_context,
)
from infra.services.monitoring.config import MonitoringConfig
from mlops_runtime import teams

DASHBOARD_LABEL = "grafana_dashboard"
FOLDER_ANNOTATION = "grafana_folder"
# Metric contract of the serving runtime (MLServer) and the drift pipeline.
LATENCY_BUCKET = "rest_server_request_duration_seconds_bucket"
REQUESTS_TOTAL = "rest_server_requests_total"
DRIFT_SHARE = "mlops_drift_share"
PUSHGATEWAY_PORT = 9091
# the Prometheus Operator's admission webhook (kube-prometheus-stack's TLS internal port)
OPERATOR_WEBHOOK_PORT = 10250
# the container port KServe's runtimes declare for their metrics (the Prometheus Operator
# keeps only targets whose declared port has this name)
PREDICTOR_METRICS_PORT = "metrics"


@dataclass(frozen=True, kw_only=True)
class ScrapeTarget:
    """A Service to scrape: namespace, ``app.kubernetes.io/name`` and port name."""

    namespace: str
    app: str
    port: str
    path: str = "/metrics"
    # HTTP basic-auth credentials (MLflow's auth app guards /metrics as well)
    username: str | None = None
    password: pulumi.Input[str] | None = None


@dataclass(frozen=True, kw_only=True)
class MonitoringArgs:
    """Inputs of Monitoring.

    Attributes:
        config: The stack's ``components.monitoring`` section (chart, namespace,
            retention, storage, Pushgateway image, alert thresholds).
        targets: Platform services to scrape.
        push_namespaces: Namespaces whose pods push to the Pushgateway (pipeline runs).
        teams: Team name -> its namespace: each gets a Grafana folder with its serving
            dashboard, every query filtered to that namespace.
        model_servers: Scrape KServe's predictors (a PodMonitor on their metrics port);
            off when the stack has no KServe, whose runtimes declare that port.
    """

    config: MonitoringConfig
    model_servers: bool
    targets: Sequence[ScrapeTarget] = ()
    push_namespaces: Sequence[str] = ()
    teams: Mapping[str, str] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.config.namespace


def alert_rules(args: MonitoringArgs) -> list[dict[str, Any]]:
    """PrometheusRule groups: serving latency and errors, model drift."""
    p99 = f"histogram_quantile(0.99, sum by (le, namespace) (rate({LATENCY_BUCKET}[5m])))"
    errors = (
        f'sum by (namespace) (rate({REQUESTS_TOTAL}{{status_code=~"5.."}}[5m])) / '
        f"sum by (namespace) (rate({REQUESTS_TOTAL}[5m]))"
    )
    return [
        {
            "name": "mlops-serving",
            "rules": [
                {
                    "alert": "ModelServingHighP99Latency",
                    "expr": f"{p99} > {args.config.p99_latency_seconds}",
                    "for": "10m",
                    "labels": {"severity": "warning"},
                    "annotations": {
                        "summary": "p99 inference latency above "
                        f"{args.config.p99_latency_seconds}s in {{{{ $labels.namespace }}}}",
                    },
                },
                {
                    "alert": "ModelServingHighErrorRate",
                    "expr": f"({errors}) > {args.config.error_rate_threshold}",
                    "for": "5m",
                    "labels": {"severity": "critical"},
                    "annotations": {
                        "summary": "more than "
                        f"{args.config.error_rate_threshold:.0%} of inference requests fail in "
                        "{{ $labels.namespace }}",
                    },
                },
            ],
        },
        {
            "name": "mlops-drift",
            "rules": [
                {
                    "alert": "ModelDataDrift",
                    "expr": f"max by (model) ({DRIFT_SHARE}) > {args.config.drift_threshold}",
                    "for": "0m",
                    "labels": {"severity": "warning"},
                    "annotations": {
                        "summary": "{{ $labels.model }}: share of drifted features above "
                        f"{args.config.drift_threshold}",
                    },
                }
            ],
        },
    ]


def _panel(title: str, expr: str, unit: str, pid: int, y: int) -> dict[str, Any]:
    return {
        "id": pid,
        "title": title,
        "type": "timeseries",
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "gridPos": {"h": 8, "w": 12, "x": 0 if pid % 2 else 12, "y": y},
        "targets": [{"expr": expr, "refId": "A", "legendFormat": "{{namespace}} {{pod}}"}],
    }


def serving_dashboard(namespace: str | None = None) -> dict[str, Any]:
    """The model-serving dashboard: every namespace, or one team's (each series selected
    by ``namespace``, so the board shows nothing of another team)."""
    sel = f'{{namespace="{namespace}"}}' if namespace else ""
    errors = (
        f'{{status_code=~"5..",namespace="{namespace}"}}' if namespace else '{status_code=~"5.."}'
    )
    suffix = f"-{namespace}" if namespace else ""
    return {
        "uid": f"mlops-serving{suffix}",
        "title": f"Model serving ({namespace})" if namespace else "Model serving",
        "schemaVersion": 39,
        "tags": ["mlops", "kserve", *([namespace] if namespace else [])],
        "time": {"from": "now-6h", "to": "now"},
        "panels": [
            _panel(
                "Throughput (req/s)",
                f"sum by (namespace, pod) (rate({REQUESTS_TOTAL}{sel}[5m]))",
                "reqps",
                1,
                0,
            ),
            _panel(
                "Latency p50 / p99",
                f"histogram_quantile(0.99, sum by (le, namespace, pod) "
                f"(rate({LATENCY_BUCKET}{sel}[5m])))",
                "s",
                2,
                0,
            ),
            _panel(
                "Error rate (5xx share)",
                f"sum by (namespace, pod) (rate({REQUESTS_TOTAL}{errors}[5m])) "
                f"/ sum by (namespace, pod) (rate({REQUESTS_TOTAL}{sel}[5m]))",
                "percentunit",
                3,
                8,
            ),
        ],
    }


def dashboards() -> dict[str, dict[str, Any]]:
    """Grafana dashboards (JSON model) keyed by file name."""
    serving = serving_dashboard()
    drift = {
        "uid": "mlops-drift",
        "title": "Model drift",
        "schemaVersion": 39,
        "tags": ["mlops", "drift"],
        "time": {"from": "now-30d", "to": "now"},
        "panels": [
            _panel(
                "Share of drifted features", f"max by (model) ({DRIFT_SHARE})", "percentunit", 1, 0
            ),
        ],
    }
    return {"mlops-serving.json": serving, "mlops-drift.json": drift}


def chart_values(args: MonitoringArgs, grafana_secret: str) -> dict[str, Any]:
    """kube-prometheus-stack values: pick up every ServiceMonitor/PodMonitor/rule."""
    return {
        "prometheus": {
            "prometheusSpec": {
                "retention": args.config.retention,
                # select monitors and rules of every release, not only this chart's
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{args.config.storage_gb}Gi"}},
                        }
                    }
                },
            }
        },
        "grafana": {
            "admin": {
                "existingSecret": grafana_secret,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "service": {"type": "ClusterIP"},
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": DASHBOARD_LABEL,
                    "labelValue": "1",
                    "searchNamespace": "ALL",
                    # a team's dashboards land in a folder of its own (FOLDER_ANNOTATION)
                    "folderAnnotation": FOLDER_ANNOTATION,
                    "provider": {"foldersFromFilesStructure": True},
                }
            },
        },
    }


class Monitoring(pulumi.ComponentResource):
    """Prometheus, Grafana, Alertmanager and the platform's monitors, dashboards, rules.

    Outputs:
        namespace: Namespace of the stack.
        pushgateway_url: Where pipelines push metrics.
        grafana_admin_password: Generated Grafana admin password (secret).
    """

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:kubernetes:Monitoring", name, None, opts)
        ns = args.namespace
        # node-exporter needs host access: the monitoring namespace cannot be `restricted`
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={
                "name": ns,
                "labels": {**MANAGED_BY, "pod-security.kubernetes.io/enforce": "privileged"},
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        # Prometheus, Grafana and Alertmanager talk among themselves (people reach them with
        # kubectl port-forward); the API server calls the operator's webhook; pipeline runs
        # push to the Pushgateway
        pushers = [namespace_peer(n) for n in args.push_namespaces]
        isolate(
            name,
            ns,
            Isolation(
                [
                    Allow("same-namespace", peers=[SAME_NAMESPACE]),
                    Allow("operator-webhook", ports=[OPERATOR_WEBHOOK_PORT]),
                    *(
                        [
                            Allow(
                                "pushgateway",
                                peers=pushers,
                                ports=[PUSHGATEWAY_PORT],
                                pods={"app.kubernetes.io/name": "pushgateway"},
                            )
                        ]
                        if pushers
                        else []
                    ),
                ]
            ),
            in_ns,
        )
        password = random.RandomPassword(
            f"{name}-grafana-admin",
            length=32,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        grafana_secret = "grafana-admin"
        admin_password: pulumi.Output[str] = pulumi.Output.secret(password.result)
        k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": grafana_secret, "namespace": ns, "labels": labels("grafana")},
            string_data={
                "admin-user": "admin",
                "admin-password": admin_password,
            },
            opts=in_ns,
        )
        self.release = k8s.helm.v3.Release(
            name,
            name="kube-prometheus-stack",
            chart="kube-prometheus-stack",
            version=args.config.chart_version,
            namespace=ns,
            repository_opts={"repo": args.config.repository},
            values=chart_values(args, grafana_secret),
            skip_await=False,
            timeout=900,
            opts=in_ns,
        )
        # monitors and rules are custom resources whose CRDs the chart installs
        after_chart = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        for target in args.targets:
            endpoint: dict[str, Any] = {"port": target.port, "path": target.path, "interval": "30s"}
            if target.username and target.password is not None:
                # Prometheus Operator reads scrape credentials from its own namespace
                scrape_secret = f"scrape-{target.app}"
                k8s.core.v1.Secret(
                    f"{name}-scrape-{target.app}",
                    metadata={"name": scrape_secret, "namespace": ns, "labels": labels(target.app)},
                    string_data={
                        "username": target.username,
                        "password": pulumi.Output.secret(target.password),
                    },
                    opts=in_ns,
                )
                endpoint["basicAuth"] = {
                    "username": {"name": scrape_secret, "key": "username"},
                    "password": {"name": scrape_secret, "key": "password"},
                }
            k8s.apiextensions.CustomResource(
                f"{name}-sm-{target.app}",
                api_version="monitoring.coreos.com/v1",
                kind="ServiceMonitor",
                metadata={"name": target.app, "namespace": ns, "labels": dict(MANAGED_BY)},
                spec={
                    "namespaceSelector": {"matchNames": [target.namespace]},
                    "selector": {"matchLabels": {"app.kubernetes.io/name": target.app}},
                    "endpoints": [endpoint],
                },
                opts=after_chart,
            )
        if args.model_servers:
            k8s.apiextensions.CustomResource(
                f"{name}-pm-kserve-predictors",
                api_version="monitoring.coreos.com/v1",
                kind="PodMonitor",
                metadata={"name": "kserve-predictors", "namespace": ns, "labels": dict(MANAGED_BY)},
                spec={
                    "namespaceSelector": {"any": True},
                    "selector": {
                        "matchExpressions": [
                            {"key": "serving.kserve.io/inferenceservice", "operator": "Exists"}
                        ]
                    },
                    "podMetricsEndpoints": [
                        {"port": PREDICTOR_METRICS_PORT, "path": "/metrics", "interval": "30s"}
                    ],
                },
                opts=after_chart,
            )

        app = "pushgateway"
        selector = {"app.kubernetes.io/name": app}
        k8s.apps.v1.Deployment(
            f"{name}-pushgateway",
            metadata={"name": app, "namespace": ns, "labels": labels(app)},
            spec={
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": labels(app, "metrics")},
                    "spec": {
                        "securityContext": pod_security_context(65534),
                        "automountServiceAccountToken": False,
                        "containers": [
                            {
                                "name": app,
                                "image": args.config.pushgateway_image,
                                "ports": [{"name": "http", "containerPort": PUSHGATEWAY_PORT}],
                                "resources": Resources(
                                    cpu_request="20m",
                                    memory_request="32Mi",
                                    cpu_limit="200m",
                                    memory_limit="128Mi",
                                ).render(),
                                "securityContext": container_security_context(),
                                "readinessProbe": {"httpGet": {"path": "/-/ready", "port": "http"}},
                                "livenessProbe": {
                                    "httpGet": {"path": "/-/healthy", "port": "http"}
                                },
                            }
                        ],
                    },
                },
            },
            opts=in_ns,
        )
        k8s.core.v1.Service(
            f"{name}-pushgateway",
            metadata={"name": app, "namespace": ns, "labels": labels(app)},
            spec={
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{"name": "http", "port": PUSHGATEWAY_PORT, "targetPort": "http"}],
            },
            opts=in_ns,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-sm-pushgateway",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": app, "namespace": ns, "labels": dict(MANAGED_BY)},
            spec={
                "namespaceSelector": {"matchNames": [ns]},
                "selector": {"matchLabels": selector},
                # pushed series keep their own job/instance labels
                "endpoints": [{"port": "http", "honorLabels": True, "interval": "30s"}],
            },
            opts=after_chart,
        )

        for filename, board in dashboards().items():
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{filename.removesuffix('.json')}",
                metadata={
                    "name": filename.removesuffix(".json"),
                    "namespace": ns,
                    "labels": {**MANAGED_BY, DASHBOARD_LABEL: "1"},
                },
                data={filename: json.dumps(board, indent=2, sort_keys=True)},
                opts=in_ns,
            )
        for team, team_ns in sorted(args.teams.items()):
            board = serving_dashboard(team_ns)
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{team}",
                metadata={
                    "name": f"mlops-serving-{team}",
                    "namespace": ns,
                    "labels": {**MANAGED_BY, DASHBOARD_LABEL: "1", teams.LABEL: team},
                    "annotations": {FOLDER_ANNOTATION: f"team {team}"},
                },
                data={f"mlops-serving-{team}.json": json.dumps(board, indent=2, sort_keys=True)},
                opts=in_ns,
            )
        k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": "mlops-alerts", "namespace": ns, "labels": dict(MANAGED_BY)},
            spec={"groups": alert_rules(args)},
            opts=after_chart,
        )
        self.pushgateway_url = f"http://{app}.{ns}.svc.cluster.local:{PUSHGATEWAY_PORT}"
        self.grafana_admin_password = admin_password
        self.register_outputs(
            {
                "namespace": ns,
                "pushgateway_url": self.pushgateway_url,
                "grafana_admin_password": self.grafana_admin_password,
            }
        )
