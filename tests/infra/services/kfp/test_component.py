"""KubeflowPipelines built alone: what carries AWS outputs is native and keyless."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from alone import build

from infra.services.kfp.component import (
    KubeflowPipelines,
    KubeflowPipelinesArgs,
    overlay_version,
)
from infra.services.kfp.config import KfpConfig
from mlops.errors import PlanError
from mlops_runtime.pipelines_env import PLATFORM_ENV

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SA = "kubernetes:core/v1:ServiceAccount"
DIRECTORY = "kubernetes:kustomize/v2:Directory"
CERT_MANAGER = "test:CertManager"  # stands in for cert-manager's Helm release


def kfp(**wiring: Any) -> Any:
    def make(opts: pulumi.ResourceOptions) -> None:
        wiring.setdefault("cert_manager", pulumi.ComponentResource(CERT_MANAGER, "cm"))
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
    built.assert_parented("mlops:kubernetes:KubeflowPipelines", CERT_MANAGER)
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
    assert set(secrets) == {"mysql-secret", "ml-pipeline-ui-signing", PLATFORM_ENV}
    assert "pw" not in str(built.plan["resources"])


def test_argo_archives_step_logs_to_s3_with_the_runners_identity() -> None:
    """Upstream's workflow-controller-configmap sends logs to SeaweedFS with a static-key
    Secret that does not exist here; the namespace's default repository wins over it."""
    repo = by_name(kfp(), CONFIG_MAP)["artifact-repositories"]
    key = repo["metadata"]["annotations"]["workflows.argoproj.io/default-artifact-repository"]
    s3 = yaml.safe_load(repo["data"][key])["s3"]
    assert s3["useSDKCreds"] is True and "accessKeySecret" not in s3
    assert s3["bucket"] == "b" and s3["endpoint"] == "s3.us-east-1.amazonaws.com"
    assert s3["keyFormat"].startswith("pipelines/")  # where every runner role may write


def test_the_ui_signs_tensorboard_links_with_a_secret_of_its_own() -> None:
    built = kfp()
    secret = by_name(built, "kubernetes:core/v1:Secret")["ml-pipeline-ui-signing"]
    assert secret["stringData"] == "[secret]"  # generated, never in the plan
    assert built.inputs("random:index/randomPassword:RandomPassword")["length"] >= 32


def test_the_cache_webhook_certificate_needs_cert_manager() -> None:
    with pytest.raises(PlanError, match="cert_manager is required"):
        kfp(cert_manager=None)


def test_the_upstream_manifests_come_after_the_native_objects_they_read() -> None:
    built = kfp()
    dirs = {r["name"]: r for r in built.of_type(DIRECTORY)}
    upstream, crds = dirs["kfp-upstream"], dirs["kfp-cluster-scoped"]
    assert crds["inputs"]["directory"].endswith(
        "/env/cert-manager/cluster-scoped-resources?ref=2.17.0"
    )
    # relative to infra/, where Pulumi runs the program
    assert upstream["inputs"]["directory"] == "services/kfp/manifests"
    assert crds["urn"] in upstream["dependencies"]
    natives = {r["urn"] for r in built.of_type(CONFIG_MAP) + built.of_type(SA)}
    assert natives <= set(upstream["dependencies"])
    # without credentials there is no Secret for them, and without OIDC no UI Ingress
    assert PLATFORM_ENV not in by_name(built, "kubernetes:core/v1:Secret")
    assert not built.of_type("kubernetes:networking.k8s.io/v1:Ingress")


def test_the_sdk_the_pipelines_compile_with_is_the_backends_release() -> None:
    """The SDK (image, dev venv) and the deployed backend move together: one minor."""
    root = Path(__file__).resolve().parents[4]
    backend = KfpConfig().version
    minor = ".".join(backend.split(".")[:2])
    image_pin = re.search(r"^kfp==(\S+)$", (root / "pipelines/requirements.txt").read_text(), re.M)
    assert image_pin and image_pin.group(1).startswith(f"{minor}.")
    assert f'"kfp>={minor},' in (root / "pyproject.toml").read_text()
    assert overlay_version() == backend
