"""KubeflowPipelines built alone: what carries AWS outputs is native and keyless."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
import yaml
from alone import build

from infra.services.kfp.component import (
    KubeflowPipelines,
    KubeflowPipelinesArgs,
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
        wiring.setdefault("team_runner_role_arns", {"fraud": "arn:fraud"})
        KubeflowPipelines(
            "kfp",
            KubeflowPipelinesArgs(
                config=KfpConfig(),
                artifact_bucket="b",
                region="us-east-1",
                api_role_arn="arn:api",
                ui_role_arn="arn:ui",
                runner_role_arn="arn:runner",
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
    """Upstream's workflow-controller-configmap sends logs to SeaweedFS with the static-key
    Secret `mlpipeline-minio-artifact`, which does not exist here: every step that archives
    its log would fail. The component writes that ConfigMap with the stack's bucket."""
    data = by_name(kfp(), CONFIG_MAP)["workflow-controller-configmap"]["data"]
    repo = yaml.safe_load(data["artifactRepository"])
    assert repo["archiveLogs"] is True
    s3 = repo["s3"]
    assert s3 == {
        "endpoint": "s3.us-east-1.amazonaws.com",
        "bucket": "b",
        "region": "us-east-1",
        "insecure": False,
        "useSDKCreds": True,  # IRSA: no accessKeySecret/secretKeySecret
        "keyFormat": "pipelines/logs/{{workflow.name}}/{{pod.name}}",  # every runner writes
    }
    assert "minio" not in str(data).lower() and "seaweedfs" not in str(data).lower()
    # upstream's other keys survive the replacement
    executor = yaml.safe_load(data["executor"])["securityContext"]
    assert executor["runAsNonRoot"] is True and executor["seccompProfile"]["type"]
    assert yaml.safe_load(data["workflowDefaults"])["spec"]["ttlStrategy"]


def test_each_team_runner_has_a_role_and_binding_of_its_own() -> None:
    """Argo's executor writes WorkflowTaskResults as the run's service account; without a
    binding, `pipeline-runner-<team>` cannot, and every step fails."""
    built = kfp(team_runner_role_arns={"fraud": "arn:fraud", "recsys": "arn:recsys"})
    roles = by_name(built, "kubernetes:rbac.authorization.k8s.io/v1:Role")
    bindings = by_name(built, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    assert set(roles) == set(bindings) == {"pipeline-runner-fraud", "pipeline-runner-recsys"}
    for runner, binding in bindings.items():
        assert binding["metadata"]["namespace"] == "kubeflow"
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": runner,  # its own Role, none shared
        }
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": runner, "namespace": "kubeflow"}
        ]
        rules = roles[runner]["rules"]
        assert {
            "apiGroups": ["argoproj.io"],
            "resources": ["workflowtaskresults"],
            "verbs": ["create", "patch"],
        } in rules
        assert not [r for r in rules if "*" in r["verbs"] or "*" in r["resources"]]


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
