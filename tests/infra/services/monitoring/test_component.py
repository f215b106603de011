"""Monitoring built alone: the pinned stack, one scrape per target, alerts from its section."""

from __future__ import annotations

import json
from typing import Any

import pulumi
from alone import build

from infra.services.monitoring.component import Monitoring, MonitoringArgs, ScrapeTarget
from infra.services.monitoring.config import MonitoringConfig

SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"


def monitoring(config: MonitoringConfig, *targets: ScrapeTarget, model_servers: bool = True) -> Any:
    def make(opts: pulumi.ResourceOptions) -> None:
        args = MonitoringArgs(config=config, model_servers=model_servers, targets=list(targets))
        Monitoring("monitoring", args, opts=opts)

    return build(make, kubernetes=True)


def test_retention_storage_and_alert_thresholds_follow_the_section() -> None:
    config = MonitoringConfig(
        retention="30d", storage_gb=200, p99_latency_seconds=0.25, drift_threshold=0.4
    )
    built = monitoring(config)
    built.assert_parented("mlops:kubernetes:Monitoring")
    release = built.inputs("kubernetes:helm.sh/v3:Release")
    assert release["version"] == "79.5.0"
    spec = release["values"]["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "30d"
    storage = spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]
    assert storage == {"storage": "200Gi"}
    rules = json.dumps(built.inputs("kubernetes:monitoring.coreos.com/v1:PrometheusRule")["spec"])
    assert "> 0.25" in rules and "> 0.4" in rules


def test_each_target_is_scraped_with_its_credentials_from_a_secret() -> None:
    built = monitoring(
        MonitoringConfig(),
        ScrapeTarget(
            namespace="mlflow", app="mlflow", port="http", username="u", password="scrape-pw-1"
        ),
        ScrapeTarget(namespace="feast", app="feast", port="metrics"),
    )
    monitors = {r["name"]: r["inputs"] for r in built.of_type(SERVICE_MONITOR)}
    mlflow = monitors["monitoring-sm-mlflow"]["spec"]
    (endpoint,) = mlflow["endpoints"]
    assert endpoint["port"] == "http" and "basicAuth" in endpoint
    assert mlflow["namespaceSelector"] == {"matchNames": ["mlflow"]}
    assert "basicAuth" not in monitors["monitoring-sm-feast"]["spec"]["endpoints"][0]
    assert built.inputs("kubernetes:core/v1:Secret", "monitoring-scrape-mlflow")["stringData"] == (
        "[secret]"
    )
    assert "scrape-pw-1" not in str(built.plan["resources"])


def test_model_servers_are_scraped_only_where_kserve_runs_them() -> None:
    # without KServe nothing declares the predictors' metrics port: a PodMonitor for them
    # would select no pod (and the pack refuses it, k8s-scrape-target-answers)
    pod_monitor = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
    assert [r["name"] for r in monitoring(MonitoringConfig()).of_type(pod_monitor)] == [
        "monitoring-pm-kserve-predictors"
    ]
    assert monitoring(MonitoringConfig(), model_servers=False).of_type(pod_monitor) == []
