"""Monitoring scrapes the platform, alerts, and ships its dashboards."""

from __future__ import annotations

import json

from plans import find, objects, plan, releases


def test_monitoring_scrapes_the_platform_and_alerts() -> None:
    p = plan("prod")
    monitors = {o["metadata"]["name"]: o for o in objects(p) if o["kind"] == "ServiceMonitor"}
    assert monitors["mlflow"]["spec"]["namespaceSelector"] == {"matchNames": ["mlflow"]}
    assert monitors["feast"]["spec"]["endpoints"][0]["port"] == "metrics"
    # MLflow: its metrics sidecar, with no credentials (never the admin's)
    (endpoint,) = monitors["mlflow"]["spec"]["endpoints"]
    assert endpoint["port"] == "metrics" and "basicAuth" not in endpoint
    assert not [o for o in objects(p) if o["metadata"].get("name") == "scrape-mlflow"]
    ports = find(p, "Service", "mlflow", "mlflow")["spec"]["ports"]
    assert {"name": "metrics", "port": 9102, "targetPort": "metrics"} in ports
    podmon = find(p, "PodMonitor", "kserve-predictors", "monitoring")["spec"]
    assert podmon["selector"]["matchExpressions"][0]["key"] == "serving.kserve.io/inferenceservice"
    # a port the MLServer runtime declares, by name (8082 was declared nowhere)
    assert podmon["podMetricsEndpoints"][0]["port"] == "metrics"
    assert "targetPort" not in podmon["podMetricsEndpoints"][0]
    runtime = find(p, "ClusterServingRuntime", "kserve-mlserver")["spec"]["containers"][0]
    assert {"name": "metrics", "containerPort": 8082, "protocol": "TCP"} in runtime["ports"]
    env = {e["name"]: e.get("value") for e in runtime["env"]}
    assert env["MLSERVER_METRICS_PORT"] == "8082"
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
    teams = ["fraud", "recsys"]
    assert titles == {
        "Model serving",
        "Model drift",
        *(f"Model serving (team-{t})" for t in teams),
    }
    # each team's board sits in a folder of its own and selects its namespace in every query
    sidecar = releases(p)["kube-prometheus-stack"]["values"]["grafana"]["sidecar"]["dashboards"]
    assert sidecar["folderAnnotation"] == "grafana_folder"
    for team in teams:
        (board,) = [b for b in boards if b["metadata"]["name"] == f"mlops-serving-{team}"]
        assert board["metadata"]["annotations"] == {"grafana_folder": f"team {team}"}
        assert board["metadata"]["labels"]["mlops.platform/team"] == team
        model = json.loads(next(iter(board["data"].values())))
        exprs = [t["expr"] for panel in model["panels"] for t in panel["targets"]]
        assert exprs and all(
            e.count(f'namespace="team-{team}"') == e.count("rest_server_") for e in exprs
        ), exprs
    assert releases(p)["kube-prometheus-stack"]["values"]["grafana"]["admin"]["existingSecret"]
