"""The KFP overlay as kustomize would build it (from the upstream inventory): what EKS and a
TLS-only RDS need of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infra.services.kfp.component import OVERLAY_DIR, OVERLAY_FILE
from mlops.checks.upstream import Inventories, Key, expand_kustomization

OVERLAY = OVERLAY_FILE.parent


def built() -> Any:
    found = expand_kustomization(OVERLAY, Inventories.load([OVERLAY]), "services/kfp/manifests")
    assert not found.problems
    return found


def patch_of(kind: str, name: str) -> dict[str, Any]:
    doc = yaml.safe_load(OVERLAY_FILE.read_text())
    (patch,) = [
        p
        for p in (yaml.safe_load(x["patch"]) for x in doc["patches"])
        if p["kind"] == kind and p["metadata"]["name"] == name and "$patch" not in p
    ]
    return patch


def container(patch: dict[str, Any], name: str) -> dict[str, Any]:
    spec = patch["spec"]["template"]["spec"]
    (c,) = [
        c for c in spec.get("containers", []) + spec.get("initContainers", []) if c["name"] == name
    ]
    return c


def test_the_cache_webhook_is_certified_by_cert_manager_not_the_kubelet_signer() -> None:
    """EKS never signs kubernetes.io/kubelet-serving: no cache deployer, a Certificate."""
    keys = built().keys
    assert Key("cert-manager.io", "Certificate", "kubeflow", "kfp-cache-cert") in keys
    assert not [k for k in keys if "cache-deployer" in k.name]
    args = container(patch_of("Deployment", "cache-server"), "server")["args"]
    assert {"--tls_cert_filename=tls.crt", "--tls_key_filename=tls.key"} <= set(args)


def test_every_mysql_client_speaks_tls_to_the_tls_only_rds() -> None:
    api = container(patch_of("Deployment", "ml-pipeline"), "ml-pipeline-api-server")
    env = {e["name"]: e for e in api["env"]}
    assert yaml.safe_load(env["DBCONFIG_MYSQLCONFIG_EXTRAPARAMS"]["value"])["tls"] in (
        "true",
        "skip-verify",
    )
    cache = container(patch_of("Deployment", "cache-server"), "server")["args"]
    (extra,) = [a for a in cache if a.startswith("--db_extra_params=")]
    assert yaml.safe_load(extra.split("=", 1)[1])["tls"] in ("true", "skip-verify")
    mlmd = patch_of("Deployment", "metadata-grpc-deployment")
    server = container(mlmd, "container")["args"]
    assert "--metadata_store_server_config_file=/etc/mlmd/config.pbtxt" in server
    assert not [a for a in server if a.startswith("--mysql_config_")]  # flags bypass the file
    script = container(mlmd, "write-config")["args"][0]
    assert "ssl_options" in script and "cipher:" in script  # what turns TLS on in its client


def test_the_api_server_uses_the_sdk_credentials_not_minio_defaults() -> None:
    env = {
        e["name"]: e
        for e in container(patch_of("Deployment", "ml-pipeline"), "ml-pipeline-api-server")["env"]
    }
    # empty, not absent: the server's config.json defaults to MinIO's keys
    for key in ("OBJECTSTORECONFIG_ACCESSKEY", "OBJECTSTORECONFIG_SECRETACCESSKEY"):
        assert env[key]["value"] == "" and env[key]["valueFrom"] is None
    assert env["OBJECTSTORECONFIG_HOST"]["value"] is None  # upstream's SeaweedFS host dropped
    assert env["OBJECTSTORECONFIG_SECURE"]["value"] == "true"


def test_what_the_component_writes_natively_is_deleted_from_upstream() -> None:
    keys = built().keys
    for kind, name in (
        ("ConfigMap", "kfp-launcher"),
        ("ConfigMap", "workflow-controller-configmap"),
        ("Secret", "mysql-secret"),
        ("ServiceAccount", "ml-pipeline"),
        ("ServiceAccount", "ml-pipeline-ui"),
        ("ServiceAccount", "pipeline-runner"),
    ):
        assert Key("", kind, "kubeflow", name) not in keys
    assert not [k for k in keys if k.kind == "Namespace"]


def test_the_overlay_path_resolves_where_pulumi_runs_the_program() -> None:
    """Pulumi runs the program in infra/ (Pulumi.yaml's `main`)."""
    infra = Path(__file__).resolve().parents[4] / "infra"
    assert not OVERLAY_DIR.is_absolute()
    assert (infra / OVERLAY_DIR / "kustomization.yaml").resolve() == OVERLAY_FILE
