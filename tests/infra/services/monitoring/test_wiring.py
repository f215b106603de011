"""Monitoring scrapes the platform, alerts, and ships its dashboards."""

from __future__ import annotations

import json

from plans import find, objects, plan, releases


def test_monitoring_scrapes_the_platform_and_alerts() -> None:
    p = plan("prod")
    monitors = {o["metadata"]["name"]: o for o in objects(p) if o["kind"] == "ServiceMonitor"}
    assert monitors["mlflow"]["spec"]["namespaceSelector"] == {"matchNames": ["mlflow"]}
    assert monitors["feast"]["spec"]["endpoints"][0]["port"] == "metrics"
    # MLflow's auth app guards /metrics: Prometheus authenticates from its own namespace
    auth = monitors["mlflow"]["spec"]["endpoints"][0]["basicAuth"]
    assert auth["password"] == {"name": "scrape-mlflow", "key": "password"}
    assert find(p, "Secret", "scrape-mlflow", "monitoring")["stringData"] == "[secret]"
    podmon = find(p, "PodMonitor", "kserve-predictors", "monitoring")["spec"]
    assert podmon["selector"]["matchExpressions"][0]["key"] == "serving.kserve.io/inferenceservice"
    rules = find(p, "PrometheusRule", "mlops-alerts", "monitoring")["spec"]["groups"]
    alerts = {r["alert"]: r["expr"] for g in rules for r in g["rules"]}
    assert alerts["ModelServingHighP99Latency"].endswith("> 0.5")
    assert "histogram_quantile(0.99" in alerts["ModelServingHighP99Latency"]
    assert alerts["ModelDataDrift"].endswith("> 0.3")
    assert "status_code" in alerts["ModelServingHighErrorRate"]
    boards = [
        o
        for o in objects(p)
        if o["kind"] == "ConfigMap"
        and o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    titles = {json.loads(next(iter(b["data"].values())))["title"] for b in boards}
    assert titles == {"Model serving", "Model drift"}
    assert releases(p)["kube-prometheus-stack"]["values"]["grafana"]["admin"]["existingSecret"]
