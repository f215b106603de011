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

from mlops_runtime.inference_service import render_inference_service

SECRET = "[secret]"
CRD_DIR = Path(__file__).resolve().parents[1] / "data" / "kserve-crd-v0.20.0"
CRDS = {
    "InferenceService": "serving.kserve.io_inferenceservices.yaml",
    "ClusterServingRuntime": "serving.kserve.io_clusterservingruntimes.yaml",
}
# Custom resources whose CRDs ship in charts we do not vendor: checked by the wiring
# tests, listed here so a new kind cannot slip through unvalidated.
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


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_native_object_matches_the_cluster_schema(env: str) -> None:
    version = cluster_version(env)
    natives = [
        o
        for o in objects(plan(env))
        if "." not in o["apiVersion"].split("/")[0]
        or o["apiVersion"].split("/")[0].endswith(".k8s.io")
    ]
    assert len(natives) > 40
    failures = []
    for obj in natives:
        if obj["kind"] == "Secret" and obj.get("stringData") == SECRET:
            # the SDK marks a Secret's whole stringData secret; the plan redacts it
            obj = {**obj, "stringData": {"redacted": SECRET}}
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{obj['kind']} {obj['metadata'].get('name')}: {exc.message}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_custom_object_is_validated_or_known(env: str) -> None:
    customs = [
        o
        for o in objects(plan(env))
        if "." in o["apiVersion"].split("/")[0]
        and not o["apiVersion"].split("/")[0].endswith(".k8s.io")
    ]
    kserve = [o for o in customs if o["apiVersion"].startswith("serving.kserve.io/")]
    assert {o["kind"] for o in kserve} >= {"ClusterServingRuntime"}
    for obj in kserve:
        validate_custom(obj)
    for obj in customs:
        if obj in kserve:
            continue
        assert obj["kind"] in UNVENDORED.get(obj["apiVersion"], set()), obj["kind"]


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
