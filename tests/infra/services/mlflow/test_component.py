"""MlflowServer built alone: authenticated, non-root, backend credentials only in a Secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
from alone import build

from infra.base.config import OidcConfig
from infra.base.exposure import OidcProxyArgs
from infra.services.mlflow.component import MlflowServer, MlflowServerArgs
from infra.services.mlflow.config import MlflowConfig
from mlops_runtime import mlflow_teams
from mlops_runtime.mlflow_teams import Spec, Workspace

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SECRET = "kubernetes:core/v1:Secret"
TYPE = "mlops:kubernetes:MlflowServer"


def server(config: MlflowConfig, **wiring: Any) -> Any:
    def make(opts: pulumi.ResourceOptions) -> None:
        MlflowServer(
            "mlflow",
            MlflowServerArgs(
                config=config,
                artifact_bucket="b",
                kms_key_arn="arn:aws:kms:k",
                role_arn="arn:aws:iam::1:role/mlflow",
                db_host="db.internal",
                db_port=5432,
                db_username="mlflow_admin",
                db_password="pw-x9",
                **wiring,
            ),
            opts=opts,
        )

    return build(make, kubernetes=True)


def container(built: Any, name: str = "mlflow") -> dict[str, Any]:
    spec = built.inputs(DEPLOYMENT, f"{name}-deployment")["spec"]["template"]["spec"]
    return dict(spec["containers"][0])


def test_basic_auth_by_default_and_secrets_only_through_a_secret() -> None:
    built = server(
        MlflowConfig(),
        workspaces=[Workspace("default", None, ("pipelines",))],
        client_namespaces=["team-a"],
    )
    built.assert_parented(TYPE)
    main = container(built)
    assert main["image"] == "ghcr.io/mlflow/mlflow:v3.17.2-full"
    assert "--app-name" in main["args"] and "basic-auth" in main["args"]
    assert "s3://b/mlflow" in main["args"]
    literal = {e["name"] for e in main["env"] if "value" in e}
    assert "MLFLOW_BACKEND_STORE_URI" not in literal
    assert "pw-x9" not in str(built.plan["resources"])
    # whole Secret payloads are secret in the plan (no key shows a value)
    assert built.inputs(SECRET, "mlflow-backend")["stringData"] == "[secret]"
    assert built.inputs(SECRET, "mlflow-users")["stringData"] == "[secret]"
    mounted = {e["valueFrom"]["secretKeyRef"]["key"] for e in main["env"] if "valueFrom" in e}
    assert "MLFLOW_BACKEND_STORE_URI" in mounted
    assert main["securityContext"]["runAsNonRoot"] is True
    assert main["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}


def test_the_section_sizes_and_scales_it() -> None:
    config = MlflowConfig(
        namespace="tracking",
        workers=2,
        resources={
            "cpu_request": "500m",
            "memory_request": "1Gi",
            "cpu_limit": "2",
            "memory_limit": "2Gi",
        },
        autoscaling={"enabled": True, "min_replicas": 2, "max_replicas": 6},
    )
    built = server(config)
    deployment = built.inputs(DEPLOYMENT, "mlflow-deployment")
    assert deployment["metadata"]["namespace"] == "tracking"
    assert "replicas" not in deployment["spec"]  # the HPA owns the count
    hpa = built.inputs("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
    assert container(built)["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    assert "--workers" in container(built)["args"]


def test_with_oidc_only_the_proxy_takes_traffic_from_the_load_balancer() -> None:
    oidc = OidcProxyArgs(
        config=OidcConfig(issuer_url="https://id.example.com", client_id="c"), client_secret="s"
    )
    built = server(
        MlflowConfig(),
        auth="oidc",
        oidc=oidc,
        domain="mlflow.example.com",
        ingress_source_cidrs=["10.0.0.0/16"],
    )
    assert "basic-auth" not in container(built)["args"]
    ingress = built.inputs("kubernetes:networking.k8s.io/v1:Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "oauth2-proxy"
    policies = {
        p["inputs"]["metadata"]["name"]: p["inputs"]["spec"]
        for p in built.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    server_sources = policies["mlflow-ingress"]["ingress"][0]["from"]
    assert {"ipBlock": {"cidr": "10.0.0.0/16"}} not in server_sources
    assert policies["oauth2-proxy-ingress"]["ingress"][0]["from"] == [
        {"ipBlock": {"cidr": "10.0.0.0/16"}}
    ]


def test_users_must_not_impersonate_admin() -> None:
    with pytest.raises(ValueError, match="not 'admin'"):
        MlflowServerArgs(
            config=MlflowConfig(),
            artifact_bucket="b",
            kms_key_arn=None,
            role_arn="r",
            db_host="h",
            db_port=1,
            db_username="u",
            db_password="p",
            workspaces=[Workspace("default", None, ("admin",))],
        )


def test_a_user_in_two_workspaces_is_refused() -> None:
    with pytest.raises(ValueError, match="an account belongs to one team"):
        MlflowServerArgs(
            config=MlflowConfig(),
            artifact_bucket="b",
            kms_key_arn=None,
            role_arn="r",
            db_host="h",
            db_port=1,
            db_username="u",
            db_password="p",
            workspaces=[Workspace("a", "s3://b/teams/a", ("u",)), Workspace("b", None, ("u",))],
        )


def test_workspaces_and_their_users_are_made_by_the_runtime_librarys_script() -> None:
    workspaces = [
        Workspace("default", None, ("pipelines",)),
        Workspace("fraud", "s3://b/teams/fraud/mlflow", ("fraud-pipelines", "ana")),
    ]
    built = server(MlflowConfig(), workspaces=workspaces, purge=["gone"])
    assert "--enable-workspaces" in container(built)["args"]
    config = built.inputs("kubernetes:core/v1:ConfigMap", "mlflow-teams")["data"]
    # the Job runs the very file the isolation tests run, on the declared spec
    assert config["mlflow_teams.py"] == Path(mlflow_teams.__file__).read_text()
    assert Spec.from_json(config["spec.json"]) == Spec(tuple(workspaces), ("gone",))
    job = built.inputs("kubernetes:batch/v1:Job")
    (pod,) = job["spec"]["template"]["spec"]["containers"]
    assert pod["command"][:3] == ["python", "/etc/mlflow-teams/mlflow_teams.py", "reconcile"]
    passwords = {r["name"] for r in built.of_type("random:index/randomPassword:RandomPassword")}
    assert {f"mlflow-user-{u}-password" for u in ("pipelines", "fraud-pipelines", "ana")} <= (
        passwords
    )
    # a change of teams names a new Job, so it runs again
    other = server(MlflowConfig(), workspaces=workspaces[:1])
    assert other.inputs("kubernetes:batch/v1:Job")["metadata"]["name"] != job["metadata"]["name"]


def test_nothing_is_granted_by_default() -> None:
    from infra.services.mlflow.component import render_auth_ini

    assert "default_permission = NO_PERMISSIONS\n" in render_auth_ini(database_uri="sqlite://")


def test_checked_credentials_are_trusted_for_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow itself reads the cache setting (a misspelt key would fall back to 0: a scrypt
    check on every request, ~0.5 s each on these machines)."""
    from mlflow.server.auth.config import read_auth_config

    from infra.services.mlflow.component import AUTH_CACHE_SECONDS, render_auth_ini

    ini = tmp_path / "basic_auth.ini"
    ini.write_text(render_auth_ini(database_uri="sqlite://"))
    monkeypatch.setenv("MLFLOW_AUTH_CONFIG_PATH", str(ini))
    assert read_auth_config().auth_cache_ttl_seconds == AUTH_CACHE_SECONDS == 60
    ini.write_text(render_auth_ini(database_uri="sqlite://", auth_cache_seconds=0))
    assert read_auth_config().auth_cache_ttl_seconds == 0
