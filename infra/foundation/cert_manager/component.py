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

from infra.base.isolation import SAME_NAMESPACE, Allow, Isolation, isolate, scrape_from
from infra.base.k8s import MANAGED_BY
from infra.foundation.cert_manager.config import CertManagerConfig


@dataclass(frozen=True, kw_only=True)
class CertManagerArgs:
    """Inputs of CertManager.

    Attributes:
        config: The stack's ``components.cert_manager`` section (chart, ACME account).
        namespace: Namespace the release runs in.
        issuer_name: Name of the ClusterIssuer created for Ingress TLS; say what it is
            (an ACME issuer when ``config.acme_email`` is set, else self-signed).
        ingress_class: Ingress class that answers HTTP-01 challenges.
        monitoring_namespace: Where Prometheus runs (it scrapes the metrics port); None: off.
    """

    config: CertManagerConfig
    namespace: str = "cert-manager"
    issuer_name: str = "self-signed"
    ingress_class: str = "alb"
    monitoring_namespace: str | None = None


# the webhook's port (the chart's default, set explicitly): the API server calls it
WEBHOOK_PORT = 10250


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
        # the controller, cainjector and webhook talk among themselves; the API server
        # (not a pod) calls the webhook
        isolate(
            name,
            args.namespace,
            Isolation(
                [
                    Allow("same-namespace", peers=[SAME_NAMESPACE]),
                    Allow("webhook", ports=[WEBHOOK_PORT]),
                    *scrape_from(args.monitoring_namespace),
                ]
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.release = k8s.helm.v3.Release(
            name,
            name="cert-manager",
            chart="cert-manager",
            version=args.config.chart_version,
            namespace=args.namespace,
            repository_opts={"repo": args.config.repository},
            values={
                "crds": {"enabled": True, "keep": True},
                "replicaCount": 1,
                "webhook": {"replicaCount": 1, "securePort": WEBHOOK_PORT},
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
        if args.config.acme_email:
            spec = {
                "acme": {
                    "email": args.config.acme_email,
                    "server": args.config.acme_server,
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
