"""Every Kubernetes object of every environment's plan against its schema.

Native objects: the OpenAPI schema of the cluster version in config, strict (unknown
fields are errors), from kubernetes-validate's offline copies. KServe objects: the
``openAPIV3Schema`` of the pinned v0.20.0 CRDs in tests/data.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from plans import ENVIRONMENTS, objects, plan, releases, stack_values

from mlops.manifests import HELM_DIR, write_manifests
from mlops_runtime.inference_service import render_inference_service

SECRET = "[secret]"
CRD_DIR = Path(__file__).resolve().parents[1] / "data" / "kserve-crd-v0.20.0"
CRDS = {
    "InferenceService": "serving.kserve.io_inferenceservices.yaml",
    "ClusterServingRuntime": "serving.kserve.io_clusterservingruntimes.yaml",
}
# Skipped, with the reason: their CRDs ship inside the cert-manager and
# kube-prometheus-stack charts, which the plan installs as Helm releases and no helm
# binary can render offline; the wiring tests check these objects. Listed, so a new
# kind cannot slip through unvalidated.
UNVENDORED = {
    "cert-manager.io/v1": {"ClusterIssuer"},
    "monitoring.coreos.com/v1": {"ServiceMonitor", "PodMonitor", "PrometheusRule"},
}


def cluster_version(env: str) -> str:
    version = str(stack_values(env)["config"]["mlops-platform:platform"]["cluster"]["version"])
    return f"{version}.0"


@cache
def crd_validator(kind: str, version: str) -> jsonschema.Draft7Validator:
    """One validator per CRD version for the session (the KServe CRDs are megabytes: checking
    the schema itself takes seconds, so it is checked once)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crd = yaml.load((CRD_DIR / CRDS[kind]).read_text(), Loader=loader)
    assert crd["metadata"]["annotations"], "the vendored CRD lost its metadata"
    for v in crd["spec"]["versions"]:
        if v["name"] == version:
            schema = v["schema"]["openAPIV3Schema"]
            jsonschema.Draft7Validator.check_schema(schema)
            return jsonschema.Draft7Validator(schema)
    raise AssertionError(f"{kind} has no version {version}")


def validate_custom(obj: dict[str, Any]) -> None:
    version = obj["apiVersion"].rsplit("/", 1)[-1]
    # the API server checks metadata itself; the CRD schema leaves it open
    body = {k: v for k, v in obj.items() if k != "metadata"}
    crd_validator(obj["kind"], version).validate(body)


def test_kubernetes_validate_has_the_configured_versions() -> None:
    available = set(kubernetes_validate.utils.all_versions())
    for env in ENVIRONMENTS:
        assert cluster_version(env) in available, (env, sorted(available)[-3:])


def folder_objects(env: str, directory: Path) -> list[tuple[str, dict[str, Any]]]:
    """What `mlops plan ENV --manifests DIR` writes, read back: (file, object) for each
    object file of the folder (Helm releases are in helm/, apart)."""
    write_manifests(plan(env), directory)
    return [(f.name, yaml.safe_load(f.read_text())) for f in sorted(directory.glob("*.yaml"))]


def is_native(obj: dict[str, Any]) -> bool:
    group = obj["apiVersion"].split("/")[0]
    return "." not in group or group.endswith(".k8s.io")


@pytest.mark.parametrize(
    "env",
    # make test-all: staging and prod as well (the same code on bigger plans)
    [e if e == "dev" else pytest.param(e, marks=pytest.mark.long) for e in ENVIRONMENTS],
)
def test_the_manifest_folder_validates_as_a_whole(env: str, tmp_path: Path) -> None:
    """Every object file against the schema of the cluster version the plan targets:
    natives strictly (kubernetes-validate's offline OpenAPI schemas), KServe's against
    the CRDs the plan installs (the pinned v0.20.0 chart's, vendored in tests/data),
    the rest skipped only when listed in UNVENDORED with the reason."""
    version = cluster_version(env)
    found = folder_objects(env, tmp_path)
    assert len(found) > 40
    failures, natives, kserve = [], 0, 0
    for name, obj in found:
        try:
            if is_native(obj):
                natives += 1
                kubernetes_validate.validate(obj, version, strict=True)
            elif obj["apiVersion"].startswith("serving.kserve.io/"):
                kserve += 1
                validate_custom(obj)
            else:
                assert obj["kind"] in UNVENDORED.get(obj["apiVersion"], set()), (
                    f"{name}: {obj['apiVersion']} {obj['kind']} is neither validated nor "
                    "listed in UNVENDORED"
                )
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
            failures.append(f"{name}: {exc.message}")
    assert not failures, "\n".join(failures)
    assert natives > 40 and kserve >= 3
    secrets = [obj for _, obj in found if obj["kind"] == "Secret"]
    assert secrets and all(
        isinstance(obj.get("stringData", {}), dict)
        and set(obj.get("stringData", {}).values()) <= {SECRET}
        for obj in secrets
    )
    releases_written = sorted(p.name for p in (tmp_path / HELM_DIR).iterdir())
    assert releases_written == sorted(f"{n}.yaml" for n in releases(plan(env)))
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [HELM_DIR]


def test_a_secret_redacted_whole_would_fail_the_folder_check() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "n"},
        "stringData": SECRET,
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(secret, cluster_version("dev"), strict=True)
    kubernetes_validate.validate(
        {**secret, "stringData": {"password": SECRET}}, cluster_version("dev"), strict=True
    )


def test_dev_serves_a_valid_inference_service() -> None:
    isvcs = [o for o in objects(plan("dev")) if o["kind"] == "InferenceService"]
    assert [o["metadata"]["name"] for o in isvcs] == ["fraud-classifier"]
    validate_custom(isvcs[0])
    assert isvcs[0]["spec"]["predictor"]["model"]["runtime"] == "kserve-mlserver"
    runtimes = {
        o["metadata"]["name"] for o in objects(plan("dev")) if o["kind"] == "ClusterServingRuntime"
    }
    assert isvcs[0]["spec"]["predictor"]["model"]["runtime"] in runtimes


def test_the_shared_template_renders_a_valid_inference_service() -> None:
    obj = render_inference_service(
        "m", "team-a", "s3://b/teams/a/m/1", "m", "3", 2, max_replicas=4, service_account="runner"
    )
    validate_custom(obj)


def test_schema_checks_can_fail() -> None:
    deployment = next(o for o in objects(plan("dev")) if o["kind"] == "Deployment")
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, cluster_version("dev"), strict=True)
    isvc = render_inference_service("m", "team-a", "s3://b/m", "m", "1")
    isvc["spec"]["predictor"]["minReplicas"] = "one"
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(isvc)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_helm_releases_are_pinned(env: str) -> None:
    found = releases(plan(env))
    assert set(found) >= {"cert-manager", "kserve-crd", "kserve", "kube-prometheus-stack"}
    for name, release in found.items():
        version = str(release["version"] or "")
        assert version and version != "latest" and version[0] in "v0123456789", name
