"""The ``components.cert_manager`` section: cert-manager and the Ingresses' ClusterIssuer."""

from __future__ import annotations

from pydantic import Field

from infra.base.config import ChartVersion, Strict


class CertManagerConfig(Strict):
    """cert-manager from its pinned chart.

    Attributes:
        enabled: Install it (KServe's webhook certificates and public Ingresses need it).
        chart_version: Pinned jetstack/cert-manager chart version.
        repository: Helm repository of the chart.
        acme_email: ACME account e-mail of the ClusterIssuer; unset: a self-signed issuer
            (internal certificates only).
        acme_server: ACME directory URL.
    """

    enabled: bool = True
    chart_version: ChartVersion = "v1.19.1"
    repository: str = "https://charts.jetstack.io"
    acme_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    acme_server: str = "https://acme-v02.api.letsencrypt.org/directory"
