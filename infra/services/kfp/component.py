"""KubeflowPipelines: standalone Kubeflow Pipelines on S3 and RDS MySQL, no MinIO.

The stock controllers come from the upstream manifests at a pinned ref, in upstream's
cert-manager variant (the kustomize overlay in ``manifests/``; its CRDs from
``env/cert-manager/cluster-scoped-resources`` first; what they create is listed in
``manifests/inventory.yaml``). Everything that carries an AWS output is a native object of
this component, so the plan shows it and the tests check it:

* ``mysql`` — an ExternalName Service to the RDS MySQL endpoint (the host name the
  upstream manifests use), and ``mysql-secret`` with the database user and password.
* ``mlops-kfp-object-store`` — bucket, region and S3 host the API server and UI use;
  ``kfp-launcher`` — the default pipeline root ``s3://<bucket>/pipelines``;
  ``workflow-controller-configmap`` — upstream's, with Argo's artifact repository moved to
  the bucket (step logs under ``<pipelines prefix>/logs/``, the SDK's credentials: IRSA).
* ``ml-pipeline-ui-signing`` — the UI's TensorBoard proxy signing secret (random; upstream
  falls back to MinIO's well-known secret key).
* ``mlops-pipelines-env`` — a ConfigMap with the platform endpoints every run of the
  sample pipelines reads (``mlops_runtime.pipelines_env.PLATFORM_ENV_KEYS``) and a Secret of
  the same name with its MLflow credentials, in the namespace the runs execute in.
* IRSA service accounts ``ml-pipeline``, ``ml-pipeline-ui`` and ``pipeline-runner``
  (no static keys anywhere), and one ``pipeline-runner-<team>`` per team bound to
  that team's role, with a Role and RoleBinding of its own (what Argo's executor and KFP's
  driver and launcher ask the Kubernetes API for).
* The UI: ClusterIP only in ``basic-auth`` mode (port-forward under cluster RBAC);
  behind oauth2-proxy with the same OIDC client as MLflow in ``oidc`` mode.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from infra.base.aws_calls import AwsCall
from infra.base.exposure import PROXY_PORT as OAUTH2_PROXY_PORT
from infra.base.exposure import OidcProxyArgs, oauth2_proxy, tls_ingress
from infra.base.isolation import (
    SAME_NAMESPACE,
    Allow,
    Isolation,
    acme_solver,
    isolate,
    namespace_peer,
    scrape_from,
)
from infra.base.k8s import MANAGED_BY, labels, service_account_metadata
from infra.services.kfp.config import KfpConfig
from mlops_runtime import teams
from mlops_runtime.pipelines_env import platform_env
from mlops_runtime.teams import LABEL as TEAM_LABEL

# Relative to infra/, the working directory Pulumi runs the program in (Pulumi.yaml's
# `main` is a directory), so the plan does not depend on where the checkout lives.
OVERLAY_DIR = Path("services") / "kfp" / "manifests"
OVERLAY_FILE = Path(__file__).resolve().parent / "manifests" / "kustomization.yaml"
UPSTREAM = "https://github.com/kubeflow/pipelines/manifests/kustomize"
# the API server's HTTP and gRPC ports (Service ml-pipeline), and the cache webhook's
# (Service cache-server's target port)
API_PORTS = (8888, 8887)
CACHE_WEBHOOK_PORT = 8443
# Argo's key for a step's archived log, under the pipelines prefix every runner may write
LOG_KEY_FORMAT = "logs/{{workflow.name}}/{{pod.name}}"
# the ConfigMap the workflow controller reads (its `--configmap` flag in upstream's Deployment)
WORKFLOW_CONTROLLER_CONFIGMAP = "workflow-controller-configmap"
# Upstream's other keys of that ConfigMap (kubeflow/pipelines 2.17.0,
# manifests/kustomize/third-party/argo/base/workflow-controller-configmap-patch.yaml), kept
# as they are: replacing the object for its artifactRepository must not drop them.
UPSTREAM_EXECUTOR = (
    "imagePullPolicy: IfNotPresent\n"
    "securityContext:\n"
    "  runAsNonRoot: true\n"
    "  runAsUser: 65532\n"
    "  allowPrivilegeEscalation: false\n"
    "  capabilities:\n"
    "    drop:\n"
    "      - ALL\n"
    "  seccompProfile:\n"
    "    type: RuntimeDefault\n"
)
UPSTREAM_WORKFLOW_DEFAULTS = (
    "spec:\n"
    "  ttlStrategy:\n"
    "    secondsAfterCompletion: 3600\n"
    "    secondsAfterSuccess: 3600\n"
    "    secondsAfterFailure: 3600\n"
    "  templateDefaults:\n"
    "    retryStrategy:\n"
    "      limit: '2'\n"
    "      retryPolicy: OnError\n"
)
# What a run's pods ask the Kubernetes API for, as the run's service account (Argo applies
# the Workflow's serviceAccountName to every pod): Argo's executor reports each step's
# outputs (argo-workflows v4.0.5 docs/workflow-rbac.md, the minimum for >= v3.4); KFP's
# driver reads its Workflow (backend/src/v2/cmd/driver/main.go), driver and launcher their
# own Pod (driver/k8s.go, component/launcher_v2.go) and the launcher ConfigMap
# (config/env.go), all at kubeflow/pipelines 2.17.0. No pods/log: since v3.4 the executor
# reads no logs through the API.
RUNNER_RULES: tuple[dict[str, Any], ...] = (
    {
        "apiGroups": ["argoproj.io"],
        "resources": ["workflowtaskresults"],
        "verbs": ["create", "patch"],
    },
    {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
    {
        "apiGroups": [""],
        "resources": ["configmaps"],
        "resourceNames": ["kfp-launcher"],
        "verbs": ["get"],
    },
)


def overlay_version() -> str:
    """The upstream ref the committed overlay pins (every resource must agree)."""
    text = OVERLAY_FILE.read_text()
    refs = set(re.findall(r"\?ref=([0-9A-Za-z.\-]+)", text))
    if len(refs) != 1:
        raise ValueError(f"{OVERLAY_DIR}: resources pin different refs: {sorted(refs)}")
    return refs.pop()


def pipeline_root(bucket: str, prefix: str) -> str:
    """``s3://<bucket>/<prefix>``: no default prefix, the slice's layout names it."""
    return f"s3://{bucket}/{prefix}"


def workflow_controller_config(args: KubeflowPipelinesArgs) -> dict[str, str]:
    """The workflow controller's ConfigMap: upstream's, with the artifact repository (where
    Argo archives step logs) moved from SeaweedFS and its static-key Secret to the stack's
    bucket under the pipelines prefix, with the SDK's credential chain (the run's IRSA role).
    Schema: argo-workflows v4.0.5 docs/workflow-controller-configmap.yaml."""
    repository = {
        "archiveLogs": True,
        "s3": {
            "endpoint": args.s3_host,
            "bucket": args.artifact_bucket,
            "region": args.region,
            "insecure": False,
            "useSDKCreds": True,
            "keyFormat": f"{args.artifact_prefix}/{LOG_KEY_FORMAT}",
        },
    }
    return {
        "artifactRepository": yaml.safe_dump(repository, sort_keys=False),
        "executor": UPSTREAM_EXECUTOR,
        "workflowDefaults": UPSTREAM_WORKFLOW_DEFAULTS,
    }


@dataclass(frozen=True, kw_only=True)
class KubeflowPipelinesArgs:
    """Inputs of KubeflowPipelines.

    Attributes:
        config: The stack's ``components.kfp`` section (version, namespace).
        artifact_bucket: ArtifactStore bucket.
        artifact_prefix: Prefix of the pipeline root (``s3://<bucket>/<prefix>``), the one
            the API server's IRSA role may read and write.
        region: AWS region of the bucket.
        api_role_arn / ui_role_arn / runner_role_arn: IRSA roles of the API server,
            the UI and the default pipeline runner.
        team_runner_role_arns: Team name -> IRSA role of its ``pipeline-runner-<team>``.
        db_host / db_port / db_username / db_password: RDS MySQL (password secret).
        auth / oidc / domain / ingress_class / cluster_issuer: UI exposure (see module).
        pipelines_env: Endpoints the pipeline runs read (ConfigMap ``mlops-pipelines-env``).
        pipelines_credentials: Their credentials (Secret ``mlops-pipelines-env``); empty:
            no Secret (the pipelines treat it as optional).
        team_pipelines_env / team_pipelines_credentials: Team name -> the same for the
            team's runs (``mlops-pipelines-env-<team>``: its data prefix and MLflow
            workspace; its pipeline user, never admin nor another team's).
        aws_calls: Service account name -> the AWS calls its pods make as its role.
        cert_manager: cert-manager's release: the cache webhook's certificate is its
            Certificate (upstream's cert-manager variant).
        client_namespaces: Namespaces whose pods may call the pipelines API (the teams).
        monitoring_namespace: Where Prometheus runs (it scrapes the metrics ports); None: off.
        ingress_source_cidrs: Where the load balancer's traffic comes from (the VPC).
    """

    config: KfpConfig
    artifact_bucket: str
    region: str
    api_role_arn: pulumi.Input[str]
    ui_role_arn: pulumi.Input[str]
    runner_role_arn: pulumi.Input[str]
    db_host: pulumi.Input[str]
    db_port: pulumi.Input[int]
    db_username: pulumi.Input[str]
    db_password: pulumi.Input[str]
    artifact_prefix: str = "pipelines"
    team_runner_role_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    auth: Literal["basic-auth", "oidc"] = "basic-auth"
    oidc: OidcProxyArgs | None = None
    domain: str | None = None
    ingress_class: str = "alb"
    cluster_issuer: str = "acme"
    pipelines_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    pipelines_credentials: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    team_pipelines_env: Mapping[str, Mapping[str, pulumi.Input[str]]] = field(default_factory=dict)
    team_pipelines_credentials: Mapping[str, Mapping[str, pulumi.Input[str]]] = field(
        default_factory=dict
    )
    aws_calls: Mapping[str, Sequence[AwsCall]] = field(default_factory=dict)
    cert_manager: pulumi.Resource | None = None
    client_namespaces: Sequence[str] = ()
    monitoring_namespace: str | None = None
    ingress_source_cidrs: Sequence[str] = ()

    def __post_init__(self) -> None:
        pinned = overlay_version()
        if self.config.version != pinned:
            raise ValueError(
                f"version {self.config.version} differs from the overlay's pinned ref {pinned}"
            )
        if self.domain and self.auth != "oidc":
            raise ValueError("the KFP UI is exposed only behind oauth2-proxy (auth 'oidc')")
        if self.cert_manager is None:
            raise ValueError("cert_manager is required: it issues the cache webhook's certificate")

    @property
    def namespace(self) -> str:
        return self.config.namespace

    @property
    def s3_host(self) -> str:
        return f"s3.{self.region}.amazonaws.com"


def _isolation(args: KubeflowPipelinesArgs) -> Isolation:
    """Who reaches the KFP namespace: its own pods (the API server, the UI, MLMD, Argo and
    the pipeline runs that execute here), the teams' pods (the pipelines API), the API
    server (the cache webhook), Prometheus, and with a domain the load balancer (the UI's
    oauth2-proxy) and cert-manager's HTTP-01 solver."""
    allows = [Allow("same-namespace", peers=[SAME_NAMESPACE])]
    if args.client_namespaces:
        allows.append(
            Allow(
                "api-clients",
                peers=[namespace_peer(n) for n in args.client_namespaces],
                ports=list(API_PORTS),
            )
        )
    allows.append(Allow("cache-webhook", ports=[CACHE_WEBHOOK_PORT]))
    allows += scrape_from(args.monitoring_namespace)
    if args.domain and args.ingress_source_cidrs:
        allows.append(
            Allow(
                "ui-load-balancer",
                peers=[{"ipBlock": {"cidr": c}} for c in args.ingress_source_cidrs],
                ports=[OAUTH2_PROXY_PORT],
                pods={"app.kubernetes.io/name": "oauth2-proxy"},
            )
        )
    allows += acme_solver(args.domain)
    return Isolation(allows)


class KubeflowPipelines(pulumi.ComponentResource):
    """Kubeflow Pipelines standalone.

    Outputs:
        namespace: Namespace (``kubeflow``).
        api_url: In-cluster URL of the pipelines API (``kfp.Client(host=...)``).
        pipeline_root: Default pipeline root.
    """

    def __init__(
        self, name: str, args: KubeflowPipelinesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:kubernetes:KubeflowPipelines", name, None, opts)
        ns = args.namespace
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            # Argo's executor and KFP's launcher are not yet `restricted`-clean upstream
            metadata={
                "name": ns,
                "labels": {
                    **MANAGED_BY,
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        isolate(name, ns, _isolation(args), in_ns)
        kfp_labels = labels("kubeflow-pipelines")
        owned: list[pulumi.Resource] = []

        owned.append(
            k8s.core.v1.Service(
                f"{name}-mysql",
                metadata={"name": "mysql", "namespace": ns, "labels": kfp_labels},
                spec={"type": "ExternalName", "externalName": args.db_host},
                opts=in_ns,
            )
        )
        owned.append(
            k8s.core.v1.Secret(
                f"{name}-mysql-secret",
                metadata={"name": "mysql-secret", "namespace": ns, "labels": kfp_labels},
                string_data={
                    "username": args.db_username,
                    "password": pulumi.Output.secret(args.db_password),
                },
                opts=in_ns,
            )
        )
        root = pipeline_root(args.artifact_bucket, args.artifact_prefix)
        owned.append(
            k8s.core.v1.ConfigMap(
                f"{name}-object-store",
                metadata={"name": "mlops-kfp-object-store", "namespace": ns, "labels": kfp_labels},
                data={
                    "bucketName": args.artifact_bucket,
                    "region": args.region,
                    "host": args.s3_host,
                    "pipelineRoot": root,
                },
                opts=in_ns,
            )
        )
        owned.append(
            k8s.core.v1.ConfigMap(
                f"{name}-launcher",
                metadata={"name": "kfp-launcher", "namespace": ns, "labels": kfp_labels},
                data={
                    "defaultPipelineRoot": root,
                    # the launcher's S3 provider: SDK credential chain (IRSA), no keys
                    "providers": (
                        "s3:\n"
                        "  default:\n"
                        f"    endpoint: {args.s3_host}\n"
                        f"    region: {args.region}\n"
                        "    disableSSL: false\n"
                        "    credentials:\n"
                        "      fromEnv: true\n"
                    ),
                },
                opts=in_ns,
            )
        )
        owned.append(
            k8s.core.v1.ConfigMap(
                f"{name}-workflow-controller",
                metadata={
                    "name": WORKFLOW_CONTROLLER_CONFIGMAP,
                    "namespace": ns,
                    "labels": kfp_labels,
                },
                data=workflow_controller_config(args),
                opts=in_ns,
            )
        )
        signing = random.RandomPassword(
            f"{name}-ui-signing", length=48, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        owned.append(
            k8s.core.v1.Secret(
                f"{name}-ui-signing",
                metadata={"name": "ml-pipeline-ui-signing", "namespace": ns, "labels": kfp_labels},
                string_data={"secret": signing.result},
                opts=in_ns,
            )
        )
        envs: list[tuple[str | None, Mapping[str, Any], Mapping[str, Any]]] = [
            (None, args.pipelines_env, args.pipelines_credentials),
            *(
                (
                    team,
                    args.team_pipelines_env[team],
                    args.team_pipelines_credentials.get(team, {}),
                )
                for team in sorted(args.team_pipelines_env)
            ),
        ]
        for team, data, credentials in envs:
            suffix = f"-{team}" if team else ""
            team_labels = {**kfp_labels, TEAM_LABEL: team} if team else kfp_labels
            if data:
                k8s.core.v1.ConfigMap(
                    f"{name}-pipelines-env{suffix}",
                    metadata={"name": platform_env(team), "namespace": ns, "labels": team_labels},
                    data=dict(data),
                    opts=in_ns,
                )
            if credentials:
                k8s.core.v1.Secret(
                    f"{name}-pipelines-credentials{suffix}",
                    metadata={"name": platform_env(team), "namespace": ns, "labels": team_labels},
                    type="Opaque",
                    string_data={k: pulumi.Output.secret(v) for k, v in credentials.items()},
                    opts=in_ns,
                )
        accounts: dict[str, tuple[pulumi.Input[str], str | None]] = {
            "ml-pipeline": (args.api_role_arn, None),
            "ml-pipeline-ui": (args.ui_role_arn, None),
            "pipeline-runner": (args.runner_role_arn, None),
        }
        for team, role in sorted(args.team_runner_role_arns.items()):
            accounts[teams.kfp_runner(team)] = (role, team)
        for sa_name, (role, team) in accounts.items():
            metadata = service_account_metadata(sa_name, ns, role, args.aws_calls.get(sa_name, ()))
            if team:  # a team's identity: the pack holds it to the team's prefix
                metadata["labels"] = {**metadata["labels"], TEAM_LABEL: team}
            owned.append(
                k8s.core.v1.ServiceAccount(f"{name}-sa-{sa_name}", metadata=metadata, opts=in_ns)
            )
        # upstream binds its Role `pipeline-runner` to `pipeline-runner` only: each team's
        # runner gets a Role and a binding of its own, nothing shared between teams
        for team in sorted(args.team_runner_role_arns):
            runner = teams.kfp_runner(team)
            role = k8s.rbac.v1.Role(
                f"{name}-role-{runner}",
                metadata={"name": runner, "namespace": ns, "labels": kfp_labels},
                rules=[dict(r) for r in RUNNER_RULES],
                opts=in_ns,
            )
            owned.append(role)
            owned.append(
                k8s.rbac.v1.RoleBinding(
                    f"{name}-binding-{runner}",
                    metadata={"name": runner, "namespace": ns, "labels": kfp_labels},
                    role_ref={
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role",
                        "name": runner,
                    },
                    subjects=[{"kind": "ServiceAccount", "name": runner, "namespace": ns}],
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, role]),
                )
            )

        crds = k8s.kustomize.v2.Directory(
            f"{name}-cluster-scoped",
            directory=(
                f"{UPSTREAM}/env/cert-manager/cluster-scoped-resources?ref={args.config.version}"
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        assert args.cert_manager is not None  # __post_init__
        k8s.kustomize.v2.Directory(
            f"{name}-upstream",
            directory=OVERLAY_DIR.as_posix(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[crds, args.cert_manager, *owned]),
        )

        if args.auth == "oidc" and args.oidc is not None:
            service, port = oauth2_proxy(
                self,
                f"{name}-ui",
                namespace=ns,
                upstream=f"http://ml-pipeline-ui.{ns}.svc.cluster.local",
                oidc=args.oidc,
                domain=args.domain,
                opts=in_ns,
            )
            if args.domain:
                tls_ingress(
                    f"{name}-ui",
                    namespace=ns,
                    host=args.domain,
                    service=service,
                    port=port,
                    ingress_class=args.ingress_class,
                    cluster_issuer=args.cluster_issuer,
                    auth="oidc",
                    opts=in_ns,
                )
        self.api_url = f"http://ml-pipeline.{ns}.svc.cluster.local:8888"
        self.pipeline_root = root
        self.register_outputs({"namespace": ns, "api_url": self.api_url, "pipeline_root": root})
