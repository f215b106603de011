"""KServe: CRDs, controller and the platform's ClusterServingRuntimes, in order.

Ordering (KServe #5037, pulumi-kubernetes #2674): the ``kserve-crd`` chart first, then
the ``kserve-resources`` controller chart, which ``depends_on`` both the CRD release
and cert-manager (its webhook serves with a cert-manager Certificate). The
ClusterServingRuntimes and any InferenceService are created after the controller,
whose validating webhook must answer for them.

Runtimes are native objects (not the ``kserve-runtime-configs`` chart) so that the
policy pack and the schema tests see them. InferenceServices are rendered by
``mlops_runtime.inference_service.render_inference_service``, the one template the local
deploy step uses as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.base.config import Resources
from infra.base.isolation import SAME_NAMESPACE, Allow, Isolation, isolate, scrape_from
from infra.base.k8s import MANAGED_BY, container_security_context, tmp_volume
from infra.services.kserve.config import KServeConfig, RuntimeName
from mlops_runtime.inference_service import render_inference_service

RUNTIME_API_VERSION = "serving.kserve.io/v1alpha1"
# Upstream runtime names: InferenceServices (and mlops_runtime.inference_service.RUNTIME)
# refer to them.
RUNTIME_NAMES: dict[str, str] = {
    "sklearn": "kserve-sklearnserver",
    "mlserver": "kserve-mlserver",
    "xgboost": "kserve-xgbserver",
}
# the controller manager's webhook server (kserve-webhook-server-service's target port)
WEBHOOK_PORT = 9443
HTTP_PORT = 8080
# MLServer serves /metrics on a server of its own (settings.metrics_port, default 8082, read
# from MLSERVER_METRICS_PORT in 1.7); the kserve python servers on their HTTP port
MLSERVER_METRICS_PORT = 8082
METRICS_PORT_NAME = "metrics"


@dataclass(frozen=True, kw_only=True)
class InferenceServiceSpec:
    """One model served in a team namespace (rendered by the shared template)."""

    name: str
    namespace: str
    storage_uri: str
    model_name: str
    model_version: str
    min_replicas: int = 1
    max_replicas: int | None = None
    service_account: str | None = None


@dataclass(frozen=True, kw_only=True)
class KServeArgs:
    """Inputs of KServe.

    Attributes:
        config: The stack's ``components.kserve`` section (version, charts, mode,
            ingress, runtimes and their images).
        namespace: Namespace of the controller.
        runtime_resources: Requests/limits of each runtime container.
        inference_services: Models to serve.
        cert_manager: cert-manager release (or component) the controller must follow.
        isvc_depends_on: What InferenceServices wait for too (their team namespaces).
        monitoring_namespace: Where Prometheus runs (it scrapes the controller); None: off.
        domain: The platform's public domain (``components.ingress.domain``): models are
            exposed at ``<name>-<namespace>.<domain>`` over HTTPS. None: KServe creates no
            Ingress, and a model's URL is its predictor Service's in-cluster name.
    """

    config: KServeConfig
    namespace: str = "kserve"
    runtime_resources: Resources = field(
        default_factory=lambda: Resources(
            cpu_request="100m", memory_request="512Mi", cpu_limit="1", memory_limit="2Gi"
        )
    )
    inference_services: Sequence[InferenceServiceSpec] = ()
    cert_manager: pulumi.Resource | None = None
    isvc_depends_on: Sequence[pulumi.Resource] = ()
    monitoring_namespace: str | None = None
    domain: str | None = None


# Without a public domain, KServe's URL of a model is its predictor Service's cluster DNS
# name (Standard mode creates ``<name>-predictor`` in the model's namespace); the chart's
# own default domain is ``example.com``, which names nothing of the platform's.
IN_CLUSTER_DOMAIN = "svc.cluster.local"
IN_CLUSTER_TEMPLATE = "{{ .Name }}-predictor.{{ .Namespace }}.{{ .IngressDomain }}"
PUBLIC_TEMPLATE = "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}"


def runtime_manifest(runtime: RuntimeName, image: str, resources: Resources) -> dict[str, Any]:
    """``spec`` of the ClusterServingRuntime for ``runtime`` (upstream shapes, hardened)."""
    # Read-only root filesystem: the storage initializer downloads the model into the
    # volume KServe mounts at /mnt/models; what the server writes at run time (caches,
    # temporary files, MLServer's multiprocess metrics) goes to a size-limited /tmp.
    tmp, tmp_mount = tmp_volume("1Gi")
    # KServe's raw-mode Service forwards port 80 to the first declared port and exposes the
    # others under their own numbers; a PodMonitor can only name a declared port
    ports = [{"name": "http1", "containerPort": HTTP_PORT, "protocol": "TCP"}]
    metrics_port = HTTP_PORT
    if runtime == "mlserver":
        metrics_port = MLSERVER_METRICS_PORT
        ports.append(
            {"name": METRICS_PORT_NAME, "containerPort": MLSERVER_METRICS_PORT, "protocol": "TCP"}
        )
    container: dict[str, Any] = {
        "name": "kserve-container",
        "image": image,
        "ports": ports,
        "resources": resources.render(),
        "securityContext": container_security_context(),
        "env": [{"name": "HOME", "value": "/tmp"}, {"name": "TMPDIR", "value": "/tmp"}],
        "volumeMounts": [tmp_mount],
    }
    if runtime == "mlserver":
        container["env"] += [
            {"name": "MLSERVER_MODEL_IMPLEMENTATION", "value": "{{.Labels.modelClass}}"},
            {"name": "MLSERVER_HTTP_PORT", "value": str(HTTP_PORT)},
            {"name": "MLSERVER_GRPC_PORT", "value": "9000"},
            {"name": "MLSERVER_METRICS_PORT", "value": str(MLSERVER_METRICS_PORT)},
            {"name": "MODELS_DIR", "value": "/mnt/models"},
            # default: ./.metrics under the image's working directory, on the root filesystem
            {"name": "MLSERVER_METRICS_DIR", "value": "/tmp/.metrics"},
        ]
        formats = [
            {"name": "sklearn", "version": "0", "autoSelect": False},
            {"name": "xgboost", "version": "1", "autoSelect": False},
            {"name": "lightgbm", "version": "3", "autoSelect": False},
            {"name": "mlflow", "version": "1", "autoSelect": True, "priority": 1},
        ]
        protocols = ["v2"]
    else:
        fmt = "sklearn" if runtime == "sklearn" else "xgboost"
        container["args"] = [
            "--model_name={{.Name}}",
            "--model_dir=/mnt/models",
            f"--http_port={HTTP_PORT}",
            *(["--nthread=1"] if runtime == "xgboost" else []),
        ]
        formats = [{"name": fmt, "version": "1", "autoSelect": True, "priority": 1}]
        protocols = ["v1", "v2"]
    return {
        # read by KServe's metrics aggregation (upstream's mlserver runtime says 8080, which
        # MLServer >= 1.1 does not serve metrics on)
        "annotations": {
            "prometheus.kserve.io/port": str(metrics_port),
            "prometheus.kserve.io/path": "/metrics",
        },
        "supportedModelFormats": formats,
        "protocolVersions": protocols,
        "containers": [container],
        "volumes": [tmp],
    }


# The storage-initializer KServe injects into every model pod takes its securityContext from
# the ClusterStorageContainer `default`, which the chart renders from this value; the chart's
# default (v0.20.0 values.yaml) has no seccompProfile, and Pod Security `restricted` refuses
# such a container unless the pod sets one. Set here, it holds for every InferenceService,
# not only those the platform's template renders.
STORAGE_INITIALIZER_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def controller_values(args: KServeArgs) -> dict[str, Any]:
    """Values of the ``kserve-resources`` chart."""
    gateway_api = args.config.ingress == "gateway-api"
    return {
        "kserve": {
            "version": args.config.version,
            "storage": {"containerSecurityContext": STORAGE_INITIALIZER_SECURITY_CONTEXT},
            "controller": {
                "deploymentMode": args.config.deployment_mode,
                "gateway": {
                    "domain": args.domain or IN_CLUSTER_DOMAIN,
                    "domainTemplate": PUBLIC_TEMPLATE if args.domain else IN_CLUSTER_TEMPLATE,
                    "urlScheme": "https" if args.domain else "http",
                    "disableIngressCreation": args.domain is None,
                    "disableIstioVirtualHost": args.config.deployment_mode == "Standard",
                    "ingressGateway": {
                        "className": args.config.ingress_class,
                        "enableGatewayApi": gateway_api,
                    },
                },
            },
        }
    }


class KServe(pulumi.ComponentResource):
    """KServe CRDs, controller, runtimes and InferenceServices.

    Outputs:
        namespace: Controller namespace.
        runtimes: Names of the ClusterServingRuntimes created.
    """

    crds: k8s.helm.v3.Release
    controller: k8s.helm.v3.Release

    def __init__(
        self, name: str, args: KServeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:kubernetes:KServe", name, None, opts)
        ns = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": args.namespace, "labels": dict(MANAGED_BY)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # the controller's webhook is called by the API server (not a pod); the models run
        # in the teams' namespaces, not here
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
            pulumi.ResourceOptions(parent=self, depends_on=[ns]),
        )
        self.crds = k8s.helm.v3.Release(
            f"{name}-crd",
            name="kserve-crd",
            chart=f"{args.config.repository}/kserve-crd",
            version=args.config.version,
            namespace=args.namespace,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns]),
        )
        after: list[pulumi.Resource] = [self.crds]
        if args.cert_manager is not None:
            after.append(args.cert_manager)
        self.controller = k8s.helm.v3.Release(
            name,
            name="kserve",
            chart=f"{args.config.repository}/kserve-resources",
            version=args.config.version,
            namespace=args.namespace,
            values=controller_values(args),
            skip_await=False,
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )
        created = []
        for runtime in args.config.runtimes:
            runtime_name = RUNTIME_NAMES[runtime]
            k8s.apiextensions.CustomResource(
                f"{name}-runtime-{runtime}",
                api_version=RUNTIME_API_VERSION,
                kind="ClusterServingRuntime",
                metadata={"name": runtime_name, "labels": dict(MANAGED_BY)},
                spec=runtime_manifest(
                    runtime, args.config.images()[runtime], args.runtime_resources
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.controller]),
            )
            created.append(runtime_name)
        for isvc in args.inference_services:
            obj = render_inference_service(
                isvc.name,
                isvc.namespace,
                isvc.storage_uri,
                isvc.model_name,
                isvc.model_version,
                isvc.min_replicas,
                max_replicas=isvc.max_replicas,
                service_account=isvc.service_account,
            )
            k8s.apiextensions.CustomResource(
                f"{name}-isvc-{isvc.namespace}-{isvc.name}",
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=obj["metadata"],
                spec=obj["spec"],
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[self.controller, *args.isvc_depends_on]
                ),
            )
        self.runtimes = created
        self.register_outputs({"namespace": args.namespace, "runtimes": created})
