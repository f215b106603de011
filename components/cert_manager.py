"""CertManager: cert-manager from its pinned Helm chart, and the ClusterIssuer the
platform's Ingresses use.

The chart installs its own CRDs (``crds.enabled``) and Helm waits for the webhook
Deployment to be ready before the release resolves, so anything that depends on this
component (the ClusterIssuer here, KServe's webhook certificates) is created only once
the webhook answers — the race of pulumi-kubernetes #1712 / #2674.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.k8s_common import MANAGED_BY


@dataclass(frozen=True, kw_only=True)
class CertManagerArgs:
    """Inputs of CertManager.

    Attributes:
        chart_version: Pinned jetstack/cert-manager chart version.
        repository: Helm repository of the chart.
        namespace: Namespace the release runs in.
        issuer_name: Name of the ClusterIssuer created for Ingress TLS.
        acme_email: ACME account e-mail; ``None`` creates a self-signed issuer instead
            (internal certificates only).
        acme_server: ACME directory URL.
        ingress_class: Ingress class that answers HTTP-01 challenges.
    """

    chart_version: str
    repository: str = "https://charts.jetstack.io"
    namespace: str = "cert-manager"
    issuer_name: str = "letsencrypt"
    acme_email: str | None = None
    acme_server: str = "https://acme-v02.api.letsencrypt.org/directory"
    ingress_class: str = "alb"

    def __post_init__(self) -> None:
        if not self.chart_version or self.chart_version == "latest":
            raise ValueError("chart_version must be a pinned version")


class CertManager(pulumi.ComponentResource):
    """cert-manager and one ClusterIssuer.

    Outputs:
        namespace: Namespace of the release.
        issuer_name: Name of the ClusterIssuer.
    """

    release: k8s.helm.v3.Release
    issuer_name: str

    def __init__(
        self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:kubernetes:CertManager", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": args.namespace, "labels": dict(MANAGED_BY)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release = k8s.helm.v3.Release(
            name,
            name="cert-manager",
            chart="cert-manager",
            version=args.chart_version,
            namespace=args.namespace,
            repository_opts={"repo": args.repository},
            values={
                "crds": {"enabled": True, "keep": True},
                "replicaCount": 1,
                "webhook": {"replicaCount": 1},
                "prometheus": {"enabled": True, "servicemonitor": {"enabled": False}},
                "securityContext": {
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            },
            # wait for the webhook to be ready: Issuers created earlier are rejected
            skip_await=False,
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        if args.acme_email:
            spec = {
                "acme": {
                    "email": args.acme_email,
                    "server": args.acme_server,
                    "privateKeySecretRef": {"name": f"{args.issuer_name}-account-key"},
                    "solvers": [{"http01": {"ingress": {"ingressClassName": args.ingress_class}}}],
                }
            }
        else:
            spec = {"selfSigned": {}}
        k8s.apiextensions.CustomResource(
            f"{name}-issuer",
            api_version="cert-manager.io/v1",
            kind="ClusterIssuer",
            metadata={"name": args.issuer_name, "labels": dict(MANAGED_BY)},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        self.issuer_name = args.issuer_name
        self.register_outputs({"namespace": args.namespace, "issuer_name": args.issuer_name})
