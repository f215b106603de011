"""MLflow is wired to the real AWS outputs: the artifact store with SSE-KMS, its IRSA role,
its backend and credentials from a Secret, autoscaling in prod."""

from __future__ import annotations

import json
from typing import Any

import pytest
from plans import ENVIRONMENTS, artifact_bucket, find, objects, plan, role_trusting, sa_role, state


def server_container(p: dict[str, Any]) -> dict[str, Any]:
    containers = find(p, "Deployment", "mlflow", "mlflow")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["mlflow", "metrics"]
    return dict(containers[0])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_mlflow_artifacts_go_to_the_artifact_store_with_sse_kms(env: str) -> None:
    p = plan(env)
    container = server_container(p)
    args = container["args"]
    assert "--serve-artifacts" in args
    dest = args[args.index("--artifacts-destination") + 1]
    assert dest == f"s3://{artifact_bucket(p)}/mlflow"
    env_vars = {e["name"]: e for e in container["env"]}
    key_arn = state(p, "aws:kms/key:Key", "artifacts-key")["arn"]
    assert env_vars["MLFLOW_KMS_KEY_ARN"]["value"] == key_arn
    upload = json.loads(env_vars["MLFLOW_S3_UPLOAD_EXTRA_ARGS"]["value"])
    assert upload == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "$(MLFLOW_KMS_KEY_ARN)"}
    # $(VAR) expansion only sees variables defined earlier in the list
    names = [e["name"] for e in container["env"]]
    assert names.index("MLFLOW_KMS_KEY_ARN") < names.index("MLFLOW_S3_UPLOAD_EXTRA_ARGS")
    assert env_vars["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"]["value"] == "false"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_mlflow_role_trusts_exactly_its_service_account(env: str) -> None:
    p = plan(env)
    spec = find(p, "Deployment", "mlflow", "mlflow")["spec"]["template"]["spec"]
    trust = role_trusting(p, sa_role(p, "mlflow", spec["serviceAccountName"]))
    assert trust == {"sub": "system:serviceaccount:mlflow:mlflow", "aud": "sts.amazonaws.com"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_mlflow_backend_uri_and_credentials_come_from_a_secret(env: str) -> None:
    p = plan(env)
    container = server_container(p)
    text = json.dumps(container)
    assert "postgresql" not in text and "--backend-store-uri" not in text
    env_vars = {e["name"]: e for e in container["env"]}
    for key in (
        "MLFLOW_BACKEND_STORE_URI",
        "MLFLOW_AUTH_ADMIN_PASSWORD",
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
    ):
        assert env_vars[key]["valueFrom"]["secretKeyRef"]["name"] == "mlflow-backend"
    # the manifest keeps the Secret's keys (what the env references), never a value
    held = find(p, "Secret", "mlflow-backend", "mlflow")["stringData"]
    assert set(held.values()) == {"[secret]"}
    assert {
        e["valueFrom"]["secretKeyRef"]["key"]
        for e in env_vars.values()
        if e.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == "mlflow-backend"
    } <= set(held)
    # never anonymous: the basic-auth app reads its config from the mounted Secret
    assert container["args"][container["args"].index("--app-name") + 1] == "basic-auth"
    assert env_vars["MLFLOW_AUTH_CONFIG_PATH"]["value"] == "/etc/mlflow-auth/basic_auth.ini"
    probes = [container[k]["httpGet"]["path"] for k in ("readinessProbe", "livenessProbe")]
    assert probes == ["/health", "/health"]


def test_prod_mlflow_autoscales_and_dev_does_not() -> None:
    def hpas(env: str) -> list[dict[str, Any]]:
        return [o for o in objects(plan(env)) if o["kind"] == "HorizontalPodAutoscaler"]

    assert hpas("dev") == []
    (hpa,) = hpas("prod")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "mlflow"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert "replicas" not in find(plan("prod"), "Deployment", "mlflow", "mlflow")["spec"]
