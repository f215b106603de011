"""The ``components.monitoring`` section: kube-prometheus-stack, dashboards and alerts."""

from __future__ import annotations

from pydantic import Field

from infra.base.config import K8S_NAME_PATTERN, ChartVersion, Image, PrometheusDuration, Strict


class MonitoringConfig(Strict):
    """Prometheus, Grafana and the Pushgateway the drift pipeline pushes to.

    Attributes:
        enabled: Deploy it.
        chart_version: Pinned kube-prometheus-stack chart version.
        pushgateway_image: Pinned Pushgateway image.
        repository: Helm repository of the chart.
        namespace: Namespace of the stack.
        retention: Prometheus retention, a positive Prometheus duration (``15d``, ``2w``).
        storage_gb: Prometheus volume size.
        p99_latency_seconds / error_rate_threshold / drift_threshold: Alert thresholds.
    """

    enabled: bool = True
    chart_version: ChartVersion = "79.5.0"
    pushgateway_image: Image = "quay.io/prometheus/pushgateway:v1.11.1"
    repository: str = "https://prometheus-community.github.io/helm-charts"
    namespace: str = Field(default="monitoring", pattern=K8S_NAME_PATTERN)
    retention: PrometheusDuration = "15d"
    storage_gb: int = Field(default=50, ge=5, le=16000)
    p99_latency_seconds: float = Field(default=0.5, gt=0)
    error_rate_threshold: float = Field(default=0.05, gt=0, lt=1)
    drift_threshold: float = Field(default=0.3, gt=0, le=1)
