"""Serving rules: KServe InferenceServices."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from harness import messages, res, unseen

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
STORE = res("mlops:storage:ArtifactStore", "artifacts", {})
ARTIFACTS = res(
    "aws:s3/bucket:Bucket", "artifacts", {"bucket": "acme-prod-artifacts", "tags": {}}, parent=STORE
)
LOGS = res(
    "aws:s3/bucket:Bucket",
    "artifacts-logs",
    {"bucket": "acme-prod-artifacts-logs", "tags": {"purpose": "s3-access-logs"}},
    parent=STORE,
)
LOGGING = res(
    "aws:s3/bucketLogging:BucketLogging",
    "artifacts-logging",
    {"bucket": "acme-prod-artifacts", "targetBucket": "acme-prod-artifacts-logs"},
    parent=STORE,
    deps={"bucket": [ARTIFACTS], "targetBucket": [LOGS]},
)
MODEL: dict[str, Any] = {
    "modelFormat": {"name": "mlflow"},
    "runtime": "kserve-mlserver",
    "protocolVersion": "v2",
    "storageUri": "s3://acme-prod-artifacts/mlflow/1/models/m-1/artifacts",
    "resources": {
        "requests": {"cpu": "100m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    },
}
INPUTS: dict[str, Any] = {
    "apiVersion": "serving.kserve.io/v1beta1",
    "kind": "InferenceService",
    "metadata": {
        "name": "churn",
        "namespace": "team-risk",
        "annotations": {
            "mlops.platform/registered-model": "churn",
            "mlops.platform/model-version": "3",
        },
    },
    "spec": {"predictor": {"minReplicas": 2, "maxReplicas": 4, "model": MODEL}},
}


def isvc(change: Any = None) -> dict[str, Any]:
    inputs = copy.deepcopy(INPUTS)
    if change:
        change(inputs)
    return res(ISVC, "churn", inputs)


def stack(change: Any = None) -> list[dict[str, Any]]:
    return [STORE, ARTIFACTS, LOGS, LOGGING, isvc(change)]


@pytest.mark.parametrize(
    "policy",
    [
        "kserve-resources",
        "kserve-min-replicas",
        "kserve-model-version-annotation",
        "kserve-storage-uri-in-artifact-bucket",
    ],
)
def test_kserve_rules_pass(policy: str) -> None:
    assert messages(policy, stack()) == []


def _model(**change: Any) -> Any:
    return lambda i: i["spec"]["predictor"]["model"].update(change)


def _annotations(**change: Any) -> Any:
    return lambda i: i["metadata"]["annotations"].update(change)


FAILING = [
    (
        "kserve-resources",
        _model(resources={"requests": {"cpu": "1", "memory": "1Gi"}}),
        "predictor.model has no limits.cpu, limits.memory.",
    ),
    (
        "kserve-resources",
        lambda i: i["spec"].update(predictor={"minReplicas": 2}),
        "The InferenceService has no predictor model or container.",
    ),
    (
        "kserve-resources",
        lambda i: i["spec"].update(transformer={"containers": [{"name": "feast", "image": "t:1"}]}),
        "transformer container 'feast' has no requests.cpu, requests.memory, limits.cpu, "
        "limits.memory.",
    ),
    (
        "kserve-min-replicas",
        lambda i: i["spec"]["predictor"].update(minReplicas=1),
        "predictor.minReplicas is 1; at least 2 required.",
    ),
    (
        "kserve-min-replicas",
        lambda i: i["spec"]["predictor"].pop("minReplicas"),
        "predictor.minReplicas is unset (1); at least 2 required.",
    ),
    (
        "kserve-model-version-annotation",
        _annotations(**{"mlops.platform/model-version": "v3"}),
        "Annotation 'mlops.platform/model-version' must be the registered model version (a "
        "positive integer), got 'v3'.",
    ),
    (
        "kserve-model-version-annotation",
        lambda i: i["metadata"]["annotations"].pop("mlops.platform/registered-model"),
        "No 'mlops.platform/registered-model' annotation naming the MLflow registered model.",
    ),
    (
        "kserve-storage-uri-in-artifact-bucket",
        _model(storageUri="s3://someone-else/model"),
        "InferenceService 'churn' reads s3://someone-else, outside the artifact bucket "
        "(acme-prod-artifacts).",
    ),
    (
        "kserve-storage-uri-in-artifact-bucket",
        _model(storageUri="s3://acme-prod-artifacts-logs/x"),
        "InferenceService 'churn' reads s3://acme-prod-artifacts-logs, outside the artifact bucket "
        "(acme-prod-artifacts).",
    ),
    (
        "kserve-storage-uri-in-artifact-bucket",
        _model(storageUri="https://example.com/model.pkl"),
        "InferenceService 'churn' predictor.model.storageUri 'https://example.com/model.pkl' is "
        "not an s3:// URI in the artifact bucket.",
    ),
]


@pytest.mark.parametrize(("policy", "change", "message"), FAILING)
def test_kserve_rules_fail(policy: str, change: Any, message: str) -> None:
    assert messages(policy, stack(change)) == [message]


def test_min_replicas_is_configurable_for_dev() -> None:
    one = stack(lambda i: i["spec"]["predictor"].update(minReplicas=1))
    assert messages("kserve-min-replicas", one, {"minimum": 1}) == []


def test_artifact_bucket_from_config_or_tag() -> None:
    team = stack(_model(storageUri="s3://team-bucket/m"))
    assert (
        messages(
            "kserve-storage-uri-in-artifact-bucket", team, {"artifact_buckets": ["team-bucket"]}
        )
        == []
    )
    tagged = res(
        "aws:s3/bucket:Bucket",
        "team",
        {"bucket": "team-bucket", "tags": {"purpose": "ml-artifacts"}},
    )
    assert messages("kserve-storage-uri-in-artifact-bucket", [*team, tagged]) == []


def test_unknown_artifact_bucket_is_a_violation() -> None:
    assert messages("kserve-storage-uri-in-artifact-bucket", [isvc()]) == [
        "InferenceService 'churn' reads s3://acme-prod-artifacts but no artifact bucket is "
        "known (set the policy's artifact_buckets or tag the bucket purpose=ml-artifacts)."
    ]


# ---- the model's serving runtime must be one the pack checked

CSR = "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime"
SR = "kubernetes:serving.kserve.io/v1alpha1:ServingRuntime"


def runtime(type_: str = CSR, name: str = "kserve-mlserver", ns: str | None = None) -> Any:
    meta = {"name": name, **({"namespace": ns} if ns else {})}
    return res(type_, f"rt-{name}-{ns}", {"metadata": meta, "spec": {"containers": []}})


def test_kserve_runtime_known_passes_for_plan_runtimes() -> None:
    assert messages("kserve-runtime-known", [*stack(), runtime()]) == []
    own = stack(_model(runtime="team-server"))
    assert messages("kserve-runtime-known", [*own, runtime(SR, "team-server", "team-risk")]) == []


@pytest.mark.parametrize(
    ("change", "extra", "message"),
    [
        (
            None,
            [],
            "InferenceService 'churn' predictor.model runs on 'kserve-mlserver', a runtime "
            "that is not in the plan: its containers were not checked.",
        ),
        (
            lambda i: i["spec"]["predictor"]["model"].pop("runtime"),
            [runtime()],
            "InferenceService 'churn' predictor.model names no runtime: KServe would pick one by "
            "model format, possibly one outside the plan that no rule checked.",
        ),
        (
            _model(runtime="team-server"),
            [runtime(SR, "team-server", "other-team")],
            "InferenceService 'churn' predictor.model runs on 'team-server', a runtime that is not "
            "in the plan: its containers were not checked.",
        ),
        (
            _model(runtime="[secret]"),
            [runtime()],
            unseen(
                "kubernetes:serving.kserve.io/v1beta1:InferenceService 'churn' "
                ".spec.predictor.model.runtime"
            ),
        ),
    ],
    ids=["runtime-outside-plan", "no-runtime", "runtime-of-another-namespace", "hidden-runtime"],
)
def test_kserve_runtime_known_fails(change: Any, extra: list[Any], message: str) -> None:
    assert messages("kserve-runtime-known", [*stack(change), *extra]) == [message]


def test_kserve_rules_see_inference_services_inside_a_config_group() -> None:
    inputs = copy.deepcopy(INPUTS)
    inputs["spec"]["predictor"]["minReplicas"] = 1
    inputs["spec"]["predictor"]["model"]["storageUri"] = "s3://someone-else/m"
    group = res("kubernetes:yaml/v2:ConfigGroup", "models", {"objs": [inputs]})
    prefix = "ConfigGroup 'models' object InferenceService/churn: "
    assert messages("kserve-min-replicas", [group]) == [
        f"{prefix}predictor.minReplicas is 1; at least 2 required."
    ]
    assert messages("kserve-storage-uri-in-artifact-bucket", [STORE, ARTIFACTS, group]) == [
        f"{prefix}InferenceService 'churn' reads s3://someone-else, outside the artifact bucket "
        "(acme-prod-artifacts)."
    ]


# ---- MLflow runs its auth app, or only an authenticating proxy reaches it

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
MLFLOW_ARGS = ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000"]


def mlflow(args: list[str]) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "mlflow"}
    return res(
        DEPLOYMENT,
        "mlflow",
        {
            "metadata": {"name": "mlflow", "namespace": "mlflow"},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "mlflow",
                                "image": "ghcr.io/mlflow/mlflow:v3.1.0",
                                "args": args,
                            }
                        ]
                    },
                },
            },
        },
    )


def netpol(name: str, peers: list[dict[str, Any]], selector: Any = None) -> dict[str, Any]:
    return res(
        NETPOL,
        name,
        {
            "metadata": {"name": name, "namespace": "mlflow"},
            "spec": {
                "podSelector": selector
                if selector is not None
                else {"matchLabels": {"app.kubernetes.io/name": "mlflow"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": peers}],
            },
        },
    )


PROXY_ONLY = [
    {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "oauth2-proxy"}}},
    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "team-a"}}},
]


def test_mlflow_auth_required_passes() -> None:
    with_auth = mlflow([*MLFLOW_ARGS, "--app-name", "basic-auth"])
    assert messages("mlflow-auth-required", [with_auth]) == []
    behind_proxy = [mlflow(MLFLOW_ARGS), netpol("mlflow-ingress", PROXY_ONLY)]
    assert messages("mlflow-auth-required", behind_proxy) == []


NO_AUTH = "Deployment 'mlflow' runs MLflow without its auth app (--app-name basic-auth) and "


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (
            [mlflow(MLFLOW_ARGS)],
            "no NetworkPolicy isolates it: any pod, and any load balancer, reaches it "
            "unauthenticated.",
        ),
        (
            [
                mlflow(MLFLOW_ARGS),
                netpol("open", [*PROXY_ONLY, {"ipBlock": {"cidr": "10.0.0.0/16"}}]),
            ],
            "NetworkPolicy 'open' admits 10.0.0.0/16 (addresses outside the cluster's pods: a load "
            "balancer, the VPC).",
        ),
        (
            [mlflow(MLFLOW_ARGS), netpol("all", [])],
            "NetworkPolicy 'all' admits traffic from anywhere.",
        ),
        (
            [mlflow(MLFLOW_ARGS), netpol("every-ns", [{"namespaceSelector": {}}])],
            "NetworkPolicy 'every-ns' admits every namespace.",
        ),
        (
            [mlflow([*MLFLOW_ARGS, "--app-name", "my-noop-app"])],
            "no NetworkPolicy isolates it: any pod, and any load balancer, reaches it "
            "unauthenticated.",
        ),
        (
            [mlflow(["sh", "-c", "exec mlflow server --host 0.0.0.0"])],
            "no NetworkPolicy isolates it: any pod, and any load balancer, reaches it "
            "unauthenticated.",
        ),
        (
            [mlflow(["gunicorn", "-b", "0.0.0.0:5000", "mlflow.server:app"])],
            "no NetworkPolicy isolates it: any pod, and any load balancer, reaches it "
            "unauthenticated.",
        ),
    ],
    ids=[
        "not-isolated",
        "ip-block",
        "from-anywhere",
        "every-namespace",
        "unknown-auth-app",
        "shell",
        "gunicorn",
    ],
)
def test_mlflow_without_auth(resources: list[Any], message: str) -> None:
    assert messages("mlflow-auth-required", resources) == [NO_AUTH + message]


def test_mlflow_client_containers_are_not_servers() -> None:
    client = mlflow(["python", "-c", "from mlflow.server.auth.client import AuthServiceClient"])
    assert messages("mlflow-auth-required", [client]) == []
