"""Monitoring: Prometheus and Grafana scraping the platform's services, with the
Pushgateway the drift pipeline pushes to."""

from __future__ import annotations

import pulumi

from infra.platform import Platform
from infra.services.feast.component import FeastStore
from infra.services.mlflow.component import METRICS_APP, MlflowServer
from infra.services.monitoring.component import Monitoring, MonitoringArgs, ScrapeTarget


def deploy(p: Platform) -> None:
    comp = p.config.components
    if not comp.monitoring.enabled:
        return
    targets: list[ScrapeTarget] = []
    if p.service("mlflow", MlflowServer) is not None:
        # the server's metrics sidecar: no host check, no login (see MlflowServer)
        targets.append(
            ScrapeTarget(namespace=comp.mlflow.namespace, app="mlflow", port=METRICS_APP)
        )
    if p.service("feast", FeastStore) is not None:
        targets.append(ScrapeTarget(namespace=comp.feast.namespace, app="feast", port="metrics"))
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            config=comp.monitoring,
            model_servers=comp.kserve.enabled,
            targets=targets,
            # the drift pipeline pushes from its run's pods (KFP's namespace), teams from theirs
            push_namespaces=[
                *([comp.kfp.namespace] if comp.kfp.enabled else []),
                *(t.namespace for t in p.config.teams),
            ],
            teams={t.name: t.namespace for t in p.config.teams},
        ),
        opts=p.k8s,
    )
    p.add("monitoring", monitoring)
    pulumi.export("pushgateway_url", monitoring.pushgateway_url)
