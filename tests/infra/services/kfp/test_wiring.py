"""Kubeflow Pipelines is wired to the real AWS outputs: artifacts in the bucket through IRSA,
its database, and the endpoints and permissions every pipeline run gets."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from plans import (
    ENVIRONMENTS,
    artifact_bucket,
    find,
    objects,
    plan,
    resources_of,
    role_trusting,
    sa_role,
    state,
)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_kfp_stores_artifacts_in_the_bucket_through_irsa(env: str) -> None:
    p = plan(env)
    bucket = artifact_bucket(p)
    store = find(p, "ConfigMap", "mlops-kfp-object-store", "kubeflow")["data"]
    assert store == {
        "bucketName": bucket,
        "region": "us-east-1",
        "host": "s3.us-east-1.amazonaws.com",
        "pipelineRoot": f"s3://{bucket}/pipelines",
    }
    launcher = find(p, "ConfigMap", "kfp-launcher", "kubeflow")["data"]
    assert launcher["defaultPipelineRoot"] == f"s3://{bucket}/pipelines"
    assert "fromEnv: true" in launcher["providers"]
    trust = role_trusting(p, sa_role(p, "kubeflow", "ml-pipeline"))
    assert trust == {
        "sub": "system:serviceaccount:kubeflow:ml-pipeline",
        "aud": "sts.amazonaws.com",
    }
    for team in ("fraud", "recsys"):
        sa = f"pipeline-runner-{team}"
        assert role_trusting(p, sa_role(p, "kubeflow", sa))["sub"] == (
            f"system:serviceaccount:kubeflow:{sa}"
        )
    # Argo archives step logs to this stack's bucket as the run's role, not to SeaweedFS
    controller = find(p, "ConfigMap", "workflow-controller-configmap", "kubeflow")["data"]
    s3 = yaml.safe_load(controller["artifactRepository"])["s3"]
    assert (s3["bucket"], s3["region"], s3["useSDKCreds"]) == (bucket, "us-east-1", True)
    assert s3["keyFormat"].startswith("pipelines/")
    assert "minio" not in str(controller).lower() and "seaweedfs" not in str(controller)
    for team in ("fraud", "recsys"):
        runner = f"pipeline-runner-{team}"
        binding = find(p, "RoleBinding", runner, "kubeflow")
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": runner, "namespace": "kubeflow"}
        ]
        rules = find(p, "Role", binding["roleRef"]["name"], "kubeflow")["rules"]
        assert any(
            "workflowtaskresults" in r["resources"] and "create" in r["verbs"] for r in rules
        )
    # no MinIO and no static keys anywhere in what the platform declares for KFP
    kfp_text = json.dumps([o for o in objects(p) if o["metadata"].get("namespace") == "kubeflow"])
    assert "minio" not in kfp_text.lower() and "accesskey" not in kfp_text.lower()
    db = state(p, "aws:rds/instance:Instance", "kfp-db")["address"]
    assert find(p, "Service", "mysql", "kubeflow")["spec"] == {
        "type": "ExternalName",
        "externalName": db,
    }


def role_policies(p: dict[str, Any], role_arn: str) -> list[dict[str, Any]]:
    """Statements of every inline policy of the role with this ARN."""
    (name,) = [
        p["_states"][r["urn"]]["name"]
        for r in resources_of(p, "aws:iam/role:Role")
        if p["_states"][r["urn"]]["arn"] == role_arn
    ]
    return [
        st
        for r in resources_of(p, "aws:iam/rolePolicy:RolePolicy")
        if r["inputs"]["role"] == name
        for st in json.loads(r["inputs"]["policy"])["Statement"]
    ]


def writable_prefixes(statements: list[dict[str, Any]], bucket: str) -> set[str]:
    return {
        st["Resource"].removeprefix(f"arn:aws:s3:::{bucket}/").removesuffix("/*")
        for st in statements
        if "s3:PutObject" in st["Action"] and isinstance(st["Resource"], str)
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_pipeline_runs_get_the_real_endpoints_and_may_use_them(env: str) -> None:
    from mlops_runtime.pipelines_env import PLATFORM_ENV, PLATFORM_ENV_KEYS, PLATFORM_SECRET_KEYS

    p = plan(env)
    bucket = artifact_bucket(p)
    data = find(p, "ConfigMap", PLATFORM_ENV, "kubeflow")["data"]
    # exactly the keys every compiled task reads (a missing key would stop the pod)
    assert set(data) == set(PLATFORM_ENV_KEYS)
    mlflow_service = find(p, "Service", "mlflow", "mlflow")
    assert mlflow_service["spec"]["ports"][0]["port"] == 80
    assert data["MLFLOW_TRACKING_URI"] == "http://mlflow.mlflow.svc.cluster.local"
    assert data["MLOPS_ARTIFACT_BUCKET"] == bucket
    assert data["MLOPS_MLFLOW_ARTIFACTS_DESTINATION"] == f"s3://{bucket}/mlflow"
    feast_yaml = yaml.safe_load(
        find(p, "ConfigMap", "feast-config", "feast")["data"]["feature_store.yaml"]
    )
    assert data["MLOPS_FEAST_PROJECT"] == feast_yaml["project"]
    assert data["MLOPS_FEAST_REGISTRY"] == feast_yaml["registry"]["path"]
    redis = state(p, "aws:elasticache/replicationGroup:ReplicationGroup", "online-store")
    assert data["MLOPS_FEAST_ONLINE_STORE"] == f"rediss://{redis['primaryEndpointAddress']}:6379/0"
    token = state(p, "aws:secretsmanager/secret:Secret", "online-store-auth-token")["arn"]
    assert data["MLOPS_FEAST_REDIS_AUTH_SECRET_ARN"] == token
    gateway = find(p, "Service", "pushgateway", "monitoring")["spec"]["ports"][0]["port"]
    assert data["MLOPS_PUSHGATEWAY_URL"] == (
        f"http://pushgateway.monitoring.svc.cluster.local:{gateway}"
    )

    # every runner may write the data prefix and the Feast registry, and read the token
    registry_bucket, _, registry_key = (
        feast_yaml["registry"]["path"].removeprefix("s3://").partition("/")
    )
    for runner in ("pipeline-runner", "pipeline-runner-fraud"):
        statements = role_policies(p, sa_role(p, "kubeflow", runner))
        writable = writable_prefixes(statements, bucket)
        assert data["MLOPS_DATA_PREFIX"] in writable, runner
        registry_writable = writable_prefixes(statements, registry_bucket)
        assert registry_key.rsplit("/", 1)[0] in registry_writable, runner
        secrets = [st for st in statements if "secretsmanager:GetSecretValue" in st["Action"]]
        assert secrets and all(st["Resource"][0].startswith(token[:-7]) for st in secrets)
    # Feast's own jobs read the parquet the pipelines publish under the data prefix
    feast_statements = role_policies(p, sa_role(p, "feast", "feast"))
    assert any(
        st["Resource"] == f"arn:aws:s3:::{bucket}/{data['MLOPS_DATA_PREFIX']}/*"
        and "s3:GetObject" in st["Action"]
        for st in feast_statements
    )

    # MLflow credentials: the service user the MLflow component creates, never admin
    secret = find(p, "Secret", PLATFORM_ENV, "kubeflow")
    assert secret["stringData"] == dict.fromkeys(PLATFORM_SECRET_KEYS, "[secret]")
    (record,) = [
        r
        for r in resources_of(p, "kubernetes:core/v1:Secret")
        if r["name"] == "kfp-pipelines-credentials"
    ]
    assert [u.rsplit("::", 1)[1] for u in record["propertyDependencies"]["stringData"]] == [
        "mlflow-user-pipelines-password"
    ]
    assert set(PLATFORM_SECRET_KEYS) == {"MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"}
    job = next(
        o
        for o in objects(p)
        if o["kind"] == "Job" and o["metadata"]["name"].startswith("mlflow-users-")
    )
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env_vars = {e["name"]: e for e in container["env"]}
    assert env_vars["MLFLOW_TRACKING_URI"]["value"] == data["MLFLOW_TRACKING_URI"]
    assert env_vars["MLFLOW_TRACKING_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "mlflow-backend",
        "key": "MLFLOW_AUTH_ADMIN_PASSWORD",
    }
    # the Job may reach the server it configures
    ingress = find(p, "NetworkPolicy", "mlflow-ingress", "mlflow")["spec"]["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "mlflow-users"}}} in ingress


def test_behind_oidc_pipeline_runs_get_no_mlflow_credentials(oidc_plan: dict[str, Any]) -> None:
    data = find(oidc_plan, "ConfigMap", "mlops-pipelines-env", "kubeflow")["data"]
    assert data["MLOPS_FEAST_ONLINE_STORE"] == "dynamodb://us-east-1"
    assert data["MLOPS_FEAST_REDIS_AUTH_SECRET_ARN"] == ""
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects(oidc_plan)}
    assert ("Secret", "mlops-pipelines-env") not in kinds
    assert not any(k == "Job" and n.startswith("mlflow-users") for k, n in kinds)


def test_kfp_upstream_manifests_are_pinned_and_without_minio() -> None:
    from infra.services.kfp.component import OVERLAY_DIR, OVERLAY_FILE, overlay_version

    p = plan("dev")
    dirs = [r["inputs"]["directory"] for r in resources_of(p, "kubernetes:kustomize/v2:Directory")]
    assert any(d.endswith(f"cluster-scoped-resources?ref={overlay_version()}") for d in dirs)
    assert str(OVERLAY_DIR) in dirs
    overlay = OVERLAY_FILE.read_text()
    resources = yaml.safe_load(overlay)["resources"]
    assert not any("minio" in r or "third-party/mysql" in r for r in resources)


def test_each_teams_runs_get_its_workspace_prefix_and_pipeline_user_only() -> None:
    p = plan("dev")
    for team, other in (("fraud", "recsys"), ("recsys", "fraud")):
        data = find(p, "ConfigMap", f"mlops-pipelines-env-{team}", "kubeflow")["data"]
        assert data["MLFLOW_WORKSPACE"] == team
        assert data["MLOPS_DATA_PREFIX"] == f"teams/{team}"
        # the team's own pipeline account, and nothing else, never shown in the clear
        assert find(p, "Secret", f"mlops-pipelines-env-{team}", "kubeflow")["stringData"] == {
            "MLFLOW_TRACKING_USERNAME": "[secret]",
            "MLFLOW_TRACKING_PASSWORD": "[secret]",
        }
        (record,) = [
            r
            for r in resources_of(p, "kubernetes:core/v1:Secret")
            if r["name"] == f"kfp-pipelines-credentials-{team}"
        ]
        # the password is its own pipeline user's: never admin's, never the other team's
        assert [u.rsplit("::", 1)[1] for u in record["propertyDependencies"]["stringData"]] == [
            f"mlflow-user-{team}-pipelines-password"
        ]
        runner = find(p, "ServiceAccount", f"pipeline-runner-{team}", "kubeflow")
        assert runner["metadata"]["labels"]["mlops.platform/team"] == team
        assert other not in json.dumps(data)


def _reads(package: Any) -> set[tuple[str, str, str]]:
    """(kind, name, key) of every ConfigMap/Secret key a compiled pipeline's tasks read."""
    documents = list(yaml.safe_load_all(package.read_text()))
    executors = documents[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    found = set()
    for executor in executors.values():
        for source in executor.get("configMapAsEnv", []):
            found |= {
                ("ConfigMap", source["configMapName"], k["configMapKey"])
                for k in source["keyToEnv"]
            }
        for source in executor.get("secretAsEnv", []):
            found |= {("Secret", source["secretName"], k["secretKey"]) for k in source["keyToEnv"]}
    return found


@pytest.mark.parametrize("pipeline", ["features", "training", "drift"])
def test_a_teams_compiled_run_reads_only_keys_its_configmap_and_secret_hold(
    pipeline: str, tmp_path: Any
) -> None:
    # a key a task reads from a ConfigMap that lacks it: the pod never starts
    # (CreateContainerConfigError); another team's or the shared names: the wrong identity
    from mlops.pipeline_runner import compile_pipeline

    p = plan("dev")
    reads = _reads(compile_pipeline(pipeline, tmp_path, team="fraud"))
    assert {(kind, name) for kind, name, _ in reads} == {
        ("ConfigMap", "mlops-pipelines-env-fraud"),
        ("Secret", "mlops-pipelines-env-fraud"),
    }
    held = {
        ("ConfigMap", "mlops-pipelines-env-fraud", k)
        for k in find(p, "ConfigMap", "mlops-pipelines-env-fraud", "kubeflow")["data"]
    } | {
        ("Secret", "mlops-pipelines-env-fraud", k)
        for k in find(p, "Secret", "mlops-pipelines-env-fraud", "kubeflow")["stringData"]
    }
    assert reads - held == set()
    assert ("ConfigMap", "mlops-pipelines-env-fraud", "MLFLOW_WORKSPACE") in reads
