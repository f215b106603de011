"""CertManager built alone: the pinned chart with its CRDs, then the ClusterIssuer."""

from __future__ import annotations

import pulumi
from alone import build

from infra.foundation.cert_manager.component import CertManager, CertManagerArgs
from infra.foundation.cert_manager.config import CertManagerConfig

RELEASE = "kubernetes:helm.sh/v3:Release"
ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"


def cert_manager(config: CertManagerConfig) -> object:
    def make(opts: pulumi.ResourceOptions) -> None:
        CertManager(
            "cert-manager",
            CertManagerArgs(config=config, issuer_name="letsencrypt", ingress_class="alb"),
            opts=opts,
        )

    return build(make, kubernetes=True)


def test_the_issuer_waits_for_the_chart_and_its_webhook() -> None:
    built = cert_manager(CertManagerConfig())
    built.assert_parented("mlops:kubernetes:CertManager")
    release = built.one(RELEASE)
    assert release["inputs"]["version"] == "v1.19.1"
    assert release["inputs"]["values"]["crds"]["enabled"] is True
    assert release["inputs"]["skipAwait"] is False  # ready webhook before anything after it
    issuer = built.one(ISSUER)
    assert release["urn"] in issuer["dependencies"]
    assert issuer["inputs"]["spec"] == {"selfSigned": {}}  # no ACME account: internal only


def test_with_an_acme_account_the_issuer_solves_through_the_ingress_class() -> None:
    built = cert_manager(CertManagerConfig(acme_email="ops@example.com"))
    acme = built.inputs(ISSUER)["spec"]["acme"]
    assert acme["email"] == "ops@example.com"
    assert acme["solvers"] == [{"http01": {"ingress": {"ingressClassName": "alb"}}}]
