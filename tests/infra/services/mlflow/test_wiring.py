"""The in-cluster components are wired to the real AWS outputs, in the right order,
and nothing runs as root, unbounded, or exposed without authentication."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from cluster_plans import ENVIRONMENTS, find, objects, plan, releases

POD_KINDS = ("Deployment", "CronJob", "Job")


def resources_of(p: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in p["resources"] if r["type"] == typ]


def state(p: dict[str, Any], typ: str, name: str) -> dict[str, Any]:
    (res,) = [r for r in resources_of(p, typ) if r["name"] == name]
    return p["_states"][res["urn"]]


def artifact_bucket(p: dict[str, Any]) -> str:
    return str(state(p, "aws:s3/bucket:Bucket", "artifacts")["bucket"])


def role_trusting(p: dict[str, Any], role_arn: str) -> dict[str, str]:
    """The IRSA trust condition (sub, aud) of the role with this ARN."""
    for role in resources_of(p, "aws:iam/role:Role"):
        if p["_states"][role["urn"]]["arn"] == role_arn:
            (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
            assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
            cond = statement["Condition"]["StringEquals"]
            return {k.rsplit(":", 1)[1]: v for k, v in cond.items()}
    raise AssertionError(f"no role {role_arn} in the plan")


def sa_role(p: dict[str, Any], namespace: str, name: str) -> str:
    sa = find(p, "ServiceAccount", name, namespace)
    return str(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"])


def pod_specs(p: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for obj in objects(p):
        where = f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"
        if obj["kind"] == "Deployment" or obj["kind"] == "Job":
            out.append((where, obj["spec"]["template"]["spec"]))
        elif obj["kind"] == "CronJob":
            out.append((where, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
        elif obj["kind"] == "ClusterServingRuntime":
            out.append((where, obj["spec"]))
    return out


# ------------------------------------------------------------------ MLflow


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_mlflow_artifacts_go_to_the_artifact_store_with_sse_kms(env: str) -> None:
    p = plan(env)
    (container,) = find(p, "Deployment", "mlflow", "mlflow")["spec"]["template"]["spec"][
        "containers"
    ]
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
    (container,) = find(p, "Deployment", "mlflow", "mlflow")["spec"]["template"]["spec"][
        "containers"
    ]
    text = json.dumps(container)
    assert "postgresql" not in text and "--backend-store-uri" not in text
    env_vars = {e["name"]: e for e in container["env"]}
    for key in (
        "MLFLOW_BACKEND_STORE_URI",
        "MLFLOW_AUTH_ADMIN_PASSWORD",
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
    ):
        assert env_vars[key]["valueFrom"]["secretKeyRef"]["name"] == "mlflow-backend"
    assert find(p, "Secret", "mlflow-backend", "mlflow")["stringData"] == "[secret]"
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


# ------------------------------------------------------------------ Feast


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_feast_config_points_at_the_real_redis_and_bucket(env: str) -> None:
    p = plan(env)
    config = yaml.safe_load(
        find(p, "ConfigMap", "feast-config", "feast")["data"]["feature_store.yaml"]
    )
    assert config["registry"]["path"] == f"s3://{artifact_bucket(p)}/feast/registry.db"
    host = state(p, "aws:elasticache/replicationGroup:ReplicationGroup", "online-store")[
        "primaryEndpointAddress"
    ]
    assert config["online_store"] == {
        "type": "redis",
        "connection_string": f"{host}:6379,ssl=true,password=${{REDIS_PASSWORD}}",
    }
    assert config["offline_store"] == {"type": "file"}
    secret_arn = state(p, "aws:secretsmanager/secret:Secret", "online-store-auth-token")["arn"]
    for where, spec in pod_specs(p):
        if "feast" not in where:
            continue
        (container,) = spec["containers"]
        env_vars = {e["name"]: e.get("value") for e in container["env"]}
        assert env_vars["REDIS_AUTH_SECRET_ARN"] == secret_arn, where
        assert "REDIS_PASSWORD=" in container["command"][-1], where
        trust = role_trusting(p, sa_role(p, "feast", spec["serviceAccountName"]))
        assert trust["sub"] == "system:serviceaccount:feast:feast"


def test_feast_uses_exactly_the_provisioned_dynamodb_tables(oidc_plan: dict[str, Any]) -> None:
    config = yaml.safe_load(
        find(oidc_plan, "ConfigMap", "feast-config", "feast")["data"]["feature_store.yaml"]
    )
    assert config["online_store"]["type"] == "dynamodb"
    assert config["online_store"]["region"] == "us-east-1"
    # the names Feast computes for the sample repo's feature view...
    template = config["online_store"]["table_name_template"]
    wanted = template.format(project=config["project"], table_name="breast_cancer_features")
    # ...are the tables the plan provisions, and the only ones the Feast role may touch
    provisioned = {
        r["inputs"]["name"]: r for r in resources_of(oidc_plan, "aws:dynamodb/table:Table")
    }
    assert set(provisioned) == {wanted}
    arn = state(oidc_plan, "aws:dynamodb/table:Table", f"online-store-{wanted}")["arn"]
    (role,) = [
        r
        for r in resources_of(oidc_plan, "aws:iam/rolePolicy:RolePolicy")
        if r["name"].startswith("feast-")
    ]
    (tables,) = [
        st for st in json.loads(role["inputs"]["policy"])["Statement"] if st["Sid"] == "NamedTables"
    ]
    assert tables["Resource"] == [arn]
    assert "dynamodb:CreateTable" not in tables["Action"]


def test_feast_apply_job_is_renamed_when_the_config_changes(oidc_plan: dict[str, Any]) -> None:
    def job(p: dict[str, Any]) -> str:
        (name,) = [
            o["metadata"]["name"]
            for o in objects(p)
            if o["kind"] == "Job" and o["metadata"]["namespace"] == "feast"
        ]
        return str(name)

    assert job(plan("dev")).startswith("feast-apply-")
    assert job(plan("dev")) == job(plan("dev"))
    assert job(plan("dev")) != job(oidc_plan)  # Redis -> DynamoDB: apply runs again


def test_feast_materializes_on_the_configured_schedule() -> None:
    cron = find(plan("dev"), "CronJob", "feast-materialize", "feast")
    assert cron["spec"]["schedule"] == "0 */6 * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"


# ------------------------------------------------------------------ KFP


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
    registry_prefix = feast_yaml["registry"]["path"].removeprefix(f"s3://{bucket}/")
    for runner in ("pipeline-runner", "pipeline-runner-fraud"):
        statements = role_policies(p, sa_role(p, "kubeflow", runner))
        writable = writable_prefixes(statements, bucket)
        assert data["MLOPS_DATA_PREFIX"] in writable, runner
        assert registry_prefix.rsplit("/", 1)[0] in writable, runner
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
    assert secret["stringData"] == "[secret]"
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


# ------------------------------------------------------------------ KServe


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_kserve_controller_waits_for_crds_and_cert_manager(env: str) -> None:
    p = plan(env)
    urns = {r["name"]: r["urn"] for r in resources_of(p, "kubernetes:helm.sh/v3:Release")}
    (controller,) = [
        r for r in resources_of(p, "kubernetes:helm.sh/v3:Release") if r["name"] == "kserve"
    ]
    assert {urns["kserve-crd"], urns["cert-manager"]} <= set(controller["dependencies"])
    for runtime in resources_of(p, "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime"):
        assert controller["urn"] in runtime["dependencies"]
    values = releases(p)["kserve"]["values"]["kserve"]["controller"]
    assert values["deploymentMode"] == "Standard"
    assert values["gateway"]["ingressGateway"]["className"] == "alb"
    assert releases(p)["kserve"]["version"] == "v0.20.0"


# ------------------------------------------------------------------ hardening


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_container_runs_as_root_or_without_limits(env: str) -> None:
    specs = pod_specs(plan(env))
    assert len(specs) >= 8
    for where, spec in specs:
        pod_non_root = (spec.get("securityContext") or {}).get("runAsNonRoot") is True
        for c in spec["containers"]:
            sc = c.get("securityContext") or {}
            assert pod_non_root or sc.get("runAsNonRoot") is True, where
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("capabilities") == {"drop": ["ALL"]}, where
            limits = c["resources"]["limits"]
            assert limits.get("cpu") and limits.get("memory"), where


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_nothing_is_exposed_without_authentication(env: str) -> None:
    check_exposure(plan(env))


def test_oidc_puts_oauth2_proxy_in_front_of_both_uis(oidc_plan: dict[str, Any]) -> None:
    ingresses = check_exposure(oidc_plan)
    hosts = {i["spec"]["rules"][0]["host"]: i for i in ingresses}
    assert set(hosts) == {"mlflow.ml.example.com", "pipelines.ml.example.com"}
    for ingress in ingresses:
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend["name"] == "oauth2-proxy"
        assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
        assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    # MLflow does not authenticate in oidc mode: only the proxy faces the load balancer
    direct = find(oidc_plan, "NetworkPolicy", "mlflow-ingress", "mlflow")["spec"]["ingress"][0]
    assert not any("ipBlock" in peer for peer in direct["from"])
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "oauth2-proxy"}}} in (
        direct["from"]
    )
    proxy = find(oidc_plan, "NetworkPolicy", "oauth2-proxy-ingress", "mlflow")["spec"]
    assert proxy["ingress"][0]["from"] == [{"ipBlock": {"cidr": "10.40.0.0/16"}}]
    issuer = find(oidc_plan, "ClusterIssuer", "letsencrypt")
    assert issuer["spec"]["acme"]["email"] == "platform@example.com"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_mlflow_admits_only_its_client_namespaces(env: str) -> None:
    p = plan(env)
    spec = find(p, "NetworkPolicy", "mlflow-ingress", "mlflow")["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "mlflow"}}
    (rule,) = spec["ingress"]
    namespaces = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for peer in rule["from"]
        if "namespaceSelector" in peer
    }
    assert namespaces == {"team-fraud", "team-recsys", "kubeflow", "monitoring"}
    assert not any("ipBlock" in peer for peer in rule["from"])  # no domain: no public path
    assert rule["ports"] == [{"protocol": "TCP", "port": 5000}]


def check_exposure(p: dict[str, Any]) -> list[dict[str, Any]]:
    ingresses = []
    for obj in objects(p):
        if obj["kind"] == "Service":
            assert obj["spec"].get("type", "ClusterIP") in ("ClusterIP", "ExternalName"), obj
        if obj["kind"] == "Ingress":
            ingresses.append(obj)
            ns = obj["metadata"]["namespace"]
            backend = obj["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
            mode = obj["metadata"]["annotations"]["mlops.platform/auth"]
            if backend == "oauth2-proxy":
                assert mode == "oidc"
                find(p, "Deployment", "oauth2-proxy", ns)
            else:
                # only MLflow may be reached directly, and only with its basic-auth app
                assert (backend, mode) == ("mlflow", "basic-auth"), obj
                args = find(p, "Deployment", "mlflow", ns)["spec"]["template"]["spec"][
                    "containers"
                ][0]["args"]
                assert args[args.index("--app-name") + 1] == "basic-auth"
    return ingresses


# ------------------------------------------------------------------ tenancy


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_team_namespaces_are_isolated_and_bound_to_their_role(env: str) -> None:
    p = plan(env)
    for team in ("fraud", "recsys"):
        ns = f"team-{team}"
        labels = find(p, "Namespace", ns)["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        deny = find(p, "NetworkPolicy", "default-deny", ns)["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        allowed = {
            o["metadata"]["name"]
            for o in objects(p)
            if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == ns
        }
        assert {"allow-dns", "allow-mlflow", "allow-feast", "allow-kubeflow"} <= allowed
        quota = find(p, "ResourceQuota", "team-quota", ns)["spec"]["hard"]
        assert quota["services.loadbalancers"] == "0"
        assert find(p, "LimitRange", "team-defaults", ns)["spec"]["limits"][0]["default"]
        trust = role_trusting(p, sa_role(p, ns, "pipeline-runner"))
        assert trust["sub"] == f"system:serviceaccount:{ns}:pipeline-runner"
        binding = find(p, "RoleBinding", "team-member", ns)
        assert binding["roleRef"]["kind"] == "Role"  # its own namespace only
        rules = find(p, "Role", "team-member", ns)["rules"]
        assert any("inferenceservices" in r["resources"] and "create" in r["verbs"] for r in rules)
        assert any("workflows" in r["resources"] and "create" in r["verbs"] for r in rules)
    kinds = {o["kind"] for o in objects(p)}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}


# ------------------------------------------------------------------ monitoring


def test_monitoring_scrapes_the_platform_and_alerts() -> None:
    p = plan("prod")
    monitors = {o["metadata"]["name"]: o for o in objects(p) if o["kind"] == "ServiceMonitor"}
    assert monitors["mlflow"]["spec"]["namespaceSelector"] == {"matchNames": ["mlflow"]}
    assert monitors["feast"]["spec"]["endpoints"][0]["port"] == "metrics"
    # MLflow's auth app guards /metrics: Prometheus authenticates from its own namespace
    auth = monitors["mlflow"]["spec"]["endpoints"][0]["basicAuth"]
    assert auth["password"] == {"name": "scrape-mlflow", "key": "password"}
    assert find(p, "Secret", "scrape-mlflow", "monitoring")["stringData"] == "[secret]"
    podmon = find(p, "PodMonitor", "kserve-predictors", "monitoring")["spec"]
    assert podmon["selector"]["matchExpressions"][0]["key"] == "serving.kserve.io/inferenceservice"
    rules = find(p, "PrometheusRule", "mlops-alerts", "monitoring")["spec"]["groups"]
    alerts = {r["alert"]: r["expr"] for g in rules for r in g["rules"]}
    assert alerts["ModelServingHighP99Latency"].endswith("> 0.5")
    assert "histogram_quantile(0.99" in alerts["ModelServingHighP99Latency"]
    assert alerts["ModelDataDrift"].endswith("> 0.3")
    assert "status_code" in alerts["ModelServingHighErrorRate"]
    boards = [
        o
        for o in objects(p)
        if o["kind"] == "ConfigMap"
        and o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    titles = {json.loads(next(iter(b["data"].values())))["title"] for b in boards}
    assert titles == {"Model serving", "Model drift"}
    assert releases(p)["kube-prometheus-stack"]["values"]["grafana"]["admin"]["existingSecret"]
