"""How a UI is exposed: a TLS Ingress, and oauth2-proxy in front when people sign in
with OIDC. MLflow and the Kubeflow Pipelines UI share these."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from infra.base.config import OidcConfig, Resources
from infra.base.k8s import (
    MANAGED_BY,
    container_security_context,
    labels,
    pod_security_context,
    secret_env,
)


@dataclass(frozen=True, kw_only=True)
class OidcProxyArgs:
    """oauth2-proxy in front of a UI.

    Attributes:
        config: The stack's ``components.auth.oidc`` section (issuer, client, domains, image).
        client_secret: The OIDC client secret (a Pulumi secret).
    """

    config: OidcConfig
    client_secret: pulumi.Input[str]


AUTH_ANNOTATION = "mlops.platform/auth"
PROXY_PORT = 4180


def tls_ingress(
    name: str,
    *,
    namespace: str,
    host: str,
    service: str,
    port: int,
    ingress_class: str,
    cluster_issuer: str,
    auth: str,
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.Ingress:
    """Ingress with a cert-manager certificate; ``auth`` records what authenticates it."""
    return k8s.networking.v1.Ingress(
        f"{name}-ingress",
        metadata={
            "name": name,
            "namespace": namespace,
            "labels": dict(MANAGED_BY),
            "annotations": {
                "cert-manager.io/cluster-issuer": cluster_issuer,
                AUTH_ANNOTATION: auth,
            },
        },
        spec={
            "ingressClassName": ingress_class,
            "tls": [{"hosts": [host], "secretName": f"{name}-tls"}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": service, "port": {"number": port}}},
                            }
                        ]
                    },
                }
            ],
        },
        opts=opts,
    )


def oauth2_proxy(
    parent: pulumi.Resource,
    name: str,
    *,
    namespace: str,
    upstream: str,
    oidc: OidcProxyArgs,
    domain: str | None,
    opts: pulumi.ResourceOptions,
) -> tuple[str, int]:
    """oauth2-proxy Deployment + Service in front of ``upstream``; returns (service, port)."""
    app = "oauth2-proxy"
    cookie = random.RandomPassword(
        f"{name}-cookie-secret",
        length=32,
        special=False,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    secret_name = f"{app}-credentials"
    client_secret: pulumi.Output[str] = pulumi.Output.secret(oidc.client_secret)
    cookie_secret: pulumi.Output[str] = pulumi.Output.secret(cookie.result)
    k8s.core.v1.Secret(
        f"{name}-oauth2-proxy",
        metadata={"name": secret_name, "namespace": namespace, "labels": labels(app)},
        string_data={
            "client-secret": client_secret,
            "cookie-secret": cookie_secret,
        },
        opts=opts,
    )
    proxy_args = [
        "--provider=oidc",
        f"--oidc-issuer-url={oidc.config.issuer_url}",
        f"--client-id={oidc.config.client_id}",
        f"--http-address=0.0.0.0:{PROXY_PORT}",
        f"--upstream={upstream}",
        "--cookie-secure=true",
        "--skip-provider-button=true",
        "--reverse-proxy=true",
        *[f"--email-domain={d}" for d in oidc.config.allowed_email_domains],
    ]
    if domain:
        proxy_args.append(f"--redirect-url=https://{domain}/oauth2/callback")
    selector = {"app.kubernetes.io/name": app}
    k8s.apps.v1.Deployment(
        f"{name}-oauth2-proxy",
        metadata={"name": app, "namespace": namespace, "labels": labels(app)},
        spec={
            "replicas": 2,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels(app, "auth-proxy")},
                "spec": {
                    "securityContext": pod_security_context(),
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": app,
                            "image": oidc.config.proxy_image,
                            "args": proxy_args,
                            "env": [
                                secret_env(
                                    "OAUTH2_PROXY_CLIENT_SECRET", secret_name, "client-secret"
                                ),
                                secret_env(
                                    "OAUTH2_PROXY_COOKIE_SECRET", secret_name, "cookie-secret"
                                ),
                            ],
                            "ports": [{"name": "http", "containerPort": PROXY_PORT}],
                            "resources": Resources(
                                cpu_request="50m",
                                memory_request="64Mi",
                                cpu_limit="500m",
                                memory_limit="256Mi",
                            ).render(),
                            "securityContext": container_security_context(),
                            "readinessProbe": {"httpGet": {"path": "/ping", "port": "http"}},
                            "livenessProbe": {"httpGet": {"path": "/ping", "port": "http"}},
                        }
                    ],
                },
            },
        },
        opts=opts,
    )
    k8s.core.v1.Service(
        f"{name}-oauth2-proxy",
        metadata={"name": app, "namespace": namespace, "labels": labels(app)},
        spec={
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
        opts=opts,
    )
    return app, 80
