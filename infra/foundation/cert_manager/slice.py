"""cert-manager and the ClusterIssuer of the platform's Ingresses (KServe's webhook too)."""

from __future__ import annotations

from infra.foundation.cert_manager.component import CertManager, CertManagerArgs
from infra.platform import Platform


def deploy(p: Platform) -> None:
    comp = p.config.components
    if not comp.cert_manager.enabled:
        return
    p.cert_manager = CertManager(
        "cert-manager",
        CertManagerArgs(
            config=comp.cert_manager,
            issuer_name=comp.cluster_issuer,
            ingress_class=comp.ingress.class_name,
            monitoring_namespace=comp.monitoring.namespace if comp.monitoring.enabled else None,
        ),
        opts=p.k8s,
    )
