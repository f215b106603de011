"""KubeflowPipelines built alone: what carries AWS outputs is native and keyless."""

from __future__ import annotations

from typing import Any

import pulumi
from alone import build

from infra.services.kfp.component import KubeflowPipelines, KubeflowPipelinesArgs
from infra.services.kfp.config import KfpConfig
from mlops_runtime.pipelines_env import PLATFORM_ENV

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SA = "kubernetes:core/v1:ServiceAccount"
DIRECTORY = "kubernetes:kustomize/v2:Directory"


def kfp(**wiring: Any) -> Any:
    def make(opts: pulumi.ResourceOptions) -> None:
        KubeflowPipelines(
            "kfp",
            KubeflowPipelinesArgs(
                config=KfpConfig(),
                artifact_bucket="b",
                region="us-east-1",
                api_role_arn="arn:api",
                ui_role_arn="arn:ui",
                runner_role_arn="arn:runner",
                team_runner_role_arns={"fraud": "arn:fraud"},
                db_host="mysql.internal",
                db_port=3306,
                db_username="kfp_admin",
                db_password="pw",
                **wiring,
            ),
            opts=opts,
        )

    return build(make, kubernetes=True)


def by_name(built: Any, typ: str) -> dict[str, dict[str, Any]]:
    return {r["inputs"]["metadata"]["name"]: r["inputs"] for r in built.of_type(typ)}


def test_storage_database_and_identities_are_wired_without_keys() -> None:
    built = kfp(
        pipelines_env={"MLFLOW_TRACKING_URI": "http://mlflow"},
        pipelines_credentials={"MLFLOW_TRACKING_USERNAME": "pipelines"},
    )
    built.assert_parented("mlops:kubernetes:KubeflowPipelines")
    maps = by_name(built, CONFIG_MAP)
    assert maps["mlops-kfp-object-store"]["data"]["pipelineRoot"] == "s3://b/pipelines"
    assert maps["kfp-launcher"]["data"]["defaultPipelineRoot"] == "s3://b/pipelines"
    assert "fromEnv: true" in maps["kfp-launcher"]["data"]["providers"]  # IRSA, no keys
    assert maps[PLATFORM_ENV]["data"] == {"MLFLOW_TRACKING_URI": "http://mlflow"}
    mysql = by_name(built, "kubernetes:core/v1:Service")["mysql"]
    assert mysql["spec"] == {"type": "ExternalName", "externalName": "mysql.internal"}
    roles = {
        name: sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        for name, sa in by_name(built, SA).items()
    }
    assert roles == {
        "ml-pipeline": "arn:api",
        "ml-pipeline-ui": "arn:ui",
        "pipeline-runner": "arn:runner",
        "pipeline-runner-fraud": "arn:fraud",
    }
    secrets = by_name(built, "kubernetes:core/v1:Secret")
    assert set(secrets) == {"mysql-secret", PLATFORM_ENV}
    assert "pw" not in str(built.plan["resources"])


def test_the_upstream_manifests_come_after_the_native_objects_they_read() -> None:
    built = kfp()
    dirs = {r["name"]: r for r in built.of_type(DIRECTORY)}
    upstream, crds = dirs["kfp-upstream"], dirs["kfp-cluster-scoped"]
    assert crds["inputs"]["directory"].endswith("cluster-scoped-resources?ref=2.5.0")
    assert crds["urn"] in upstream["dependencies"]
    natives = {r["urn"] for r in built.of_type(CONFIG_MAP) + built.of_type(SA)}
    assert natives <= set(upstream["dependencies"])
    # without credentials there is no Secret for them, and without OIDC no UI Ingress
    assert PLATFORM_ENV not in by_name(built, "kubernetes:core/v1:Secret")
    assert not built.of_type("kubernetes:networking.k8s.io/v1:Ingress")
