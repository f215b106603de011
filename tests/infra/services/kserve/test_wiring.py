"""KServe comes up in the right order: its controller waits for the CRDs and cert-manager."""

from __future__ import annotations

import pytest
from plans import ENVIRONMENTS, plan, releases, resources_of


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
