"""k8s-admitted-after-webhook: what a fail-closed webhook intercepts waits for its release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import messages, res

from policies.rules.capabilities import chart_name
from policies.rules.webhooks import WEBHOOKS

RULE = "k8s-admitted-after-webhook"
RELEASE = "kubernetes:helm.sh/v3:Release"
PROVIDER = "pulumi:providers:kubernetes"


def release(
    chart: str, values: Any = None, deps: list[dict[str, Any]] | None = None, name: str = ""
) -> dict[str, Any]:
    return res(
        RELEASE,
        name or chart,
        {
            "chart": chart,
            "version": "1.0.0",
            "repositoryOpts": {"repo": "https://x.example"},
            "values": {} if values is None else values,
        },
        deps={"": deps} if deps else None,
    )


def lb(values: Any = None) -> dict[str, Any]:
    return release("aws-load-balancer-controller", values)


def service(
    deps: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
    provider: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return res(
        "kubernetes:core/v1:Service",
        "web-svc",
        {
            "metadata": {"name": "web", "namespace": "apps", "labels": labels or {}},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        },
        deps={"": deps} if deps else None,
        provider=f"{provider['urn']}::id" if provider else None,
    )


def ingress(deps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return res(
        "kubernetes:networking.k8s.io/v1:Ingress",
        "web-ing",
        {
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"ingressClassName": "nginx", "rules": []},
        },
        deps={"": deps} if deps else None,
    )


def provider(deps: list[dict[str, Any]] | None = None, name: str = "k8s") -> dict[str, Any]:
    return res(PROVIDER, name, {"kubeconfig": "{}"}, deps={"": deps} if deps else None)


def refused(resources: list[dict[str, Any]]) -> list[str]:
    return messages(RULE, resources)


def test_a_service_racing_the_load_balancer_controller_is_refused() -> None:
    found = refused([lb(), service()])
    assert len(found) == 1
    assert found[0].startswith(
        "Service 'web' is admitted by aws-load-balancer-controller's webhook "
        "mservice.elbv2.k8s.aws (failurePolicy Fail), but the plan does not order it after "
        "Helm release 'aws-load-balancer-controller'"
    )


def test_an_ingress_of_any_class_racing_it_is_refused() -> None:
    # vingress validates every Ingress, not only class alb
    assert [m.split(" is ")[0] for m in refused([lb(), ingress()])] == ["Ingress 'web'"]


@pytest.mark.parametrize("how", ["depends_on", "provider", "provider_chain"])
def test_an_object_ordered_after_the_release_passes(how: str) -> None:
    controller = lb()
    if how == "depends_on":
        plan = [controller, service(deps=[controller])]
    elif how == "provider":
        p = provider(deps=[controller])
        plan = [controller, p, service(provider=p)]
    else:
        # the provider waits for something that waits for the release
        ns = res(
            "kubernetes:core/v1:Namespace",
            "apps",
            {"metadata": {"name": "apps"}},
            deps={"": [controller]},
        )
        p = provider(deps=[ns])
        plan = [controller, ns, p, service(provider=p)]
    assert refused(plan) == []


def test_an_object_written_before_the_release_passes() -> None:
    svc = service()
    assert refused([svc, release("aws-load-balancer-controller", deps=[svc])]) == []


def test_the_controllers_own_objects_are_exempt() -> None:
    own = service(labels={"app.kubernetes.io/name": "aws-load-balancer-controller"})
    assert refused([lb(), own]) == []


@pytest.mark.parametrize(
    ("values", "refusals"),
    [
        ({"enableServiceMutatorWebhook": False}, ["Ingress 'web'"]),
        ({"serviceMutatorWebhookConfig": {"failurePolicy": "Ignore"}}, ["Ingress 'web'"]),
        ({"webhookConfig": {"disableIngressValidation": True}}, ["Service 'web'"]),
        ({"webhookConfig": {"ingressValdationFailurePolicy": "Ignore"}}, ["Service 'web'"]),
        # unknown during preview: counts as the chart's default (the webhook on, Fail)
        (
            {"webhookConfig": {"ingressValdationFailurePolicy": "[unknown]"}},
            ["Service 'web'", "Ingress 'web'"],
        ),
    ],
)
def test_the_releases_values_decide_which_webhooks_fail_closed(
    values: Any, refusals: list[str]
) -> None:
    found = refused([lb(values), service(), ingress()])
    assert sorted(m.split(" is ")[0] for m in found) == sorted(refusals)


@pytest.mark.parametrize("values", ["[secret]", {"enableServiceMutatorWebhook": "[secret]"}])
def test_values_it_cannot_see_are_refused(values: Any) -> None:
    found = refused([lb(values), service(deps=[]), ingress()])
    assert found and all(m.startswith("Could not see") for m in found)


def test_another_release_counts_as_writing_services_unless_it_installs_crds_only() -> None:
    found = refused([lb(), release("kube-prometheus-stack"), release("kserve-crd")])
    assert [m.split(" is ")[0] for m in found] == [
        "Helm release 'kube-prometheus-stack' (chart kube-prometheus-stack, whose Services)"
    ]


def test_a_kustomize_directory_counts_as_writing_services() -> None:
    kfp = res("kubernetes:kustomize/v2:Directory", "kfp", {"directory": "manifests"})
    assert len(refused([lb(), kfp])) == 1


# KServe's chart as the platform installs it (oci://ghcr.io/kserve/charts/kserve-resources,
# v0.15 on) and its name before
@pytest.mark.parametrize("kserve", ["oci://ghcr.io/kserve/charts/kserve-resources", "kserve"])
def test_cert_manager_and_kserve_objects_wait_for_their_releases(kserve: str) -> None:
    issuer = res(
        "kubernetes:cert-manager.io/v1:ClusterIssuer",
        "ca",
        {"metadata": {"name": "ca"}, "spec": {"selfSigned": {}}},
    )
    isvc = res(
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        "m",
        {
            "metadata": {"name": "m", "namespace": "apps"},
            "spec": {"predictor": {"model": {"modelFormat": {"name": "mlflow"}}}},
        },
    )
    cm, ks = release("cert-manager"), release(kserve, name="kserve")
    found = refused([cm, ks, issuer, isvc])
    assert sorted(m.split(" is ")[0] for m in found) == [
        "ClusterIssuer 'ca'",
        "InferenceService 'm'",
    ]
    ordered = [
        cm,
        ks,
        res(
            "kubernetes:cert-manager.io/v1:ClusterIssuer",
            "ca",
            {"metadata": {"name": "ca"}, "spec": {"selfSigned": {}}},
            deps={"": [cm]},
        ),
    ]
    assert refused(ordered) == []


def test_no_webhook_release_no_finding() -> None:
    assert refused([service(), ingress(), release("kube-prometheus-stack")]) == []


def prometheus_rule(deps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return res(
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        "slo",
        {"metadata": {"name": "slo", "namespace": "monitoring"}, "spec": {"groups": []}},
        deps={"": deps} if deps else None,
    )


# kube-prometheus-stack 79.5.0: Ignore while its patch Job manages the certificates (the
# default), Fail when the values say so
@pytest.mark.parametrize(
    ("hooks", "refused_"),
    [
        ({}, False),
        ({"failurePolicy": "Ignore"}, False),
        ({"failurePolicy": "IgnoreOnInstallOnly"}, False),
        ({"enabled": False, "failurePolicy": "Fail"}, False),
        ({"failurePolicy": "Fail"}, True),
        ({"patch": {"enabled": False}}, True),
        # unknown during preview counts as failing closed (a secret is refused outright)
        ({"patch": {"enabled": "[unknown]"}}, True),
    ],
)
def test_prometheus_rules_race_the_operators_webhook_only_when_it_fails_closed(
    hooks: dict[str, Any], refused_: bool
) -> None:
    kps = release("kube-prometheus-stack", {"prometheusOperator": {"admissionWebhooks": hooks}})
    found = refused([kps, prometheus_rule()])
    assert [m.split(" is ")[0] for m in found] == (["PrometheusRule 'slo'"] if refused_ else [])
    assert refused([kps, prometheus_rule(deps=[kps])]) == []


def test_every_chart_whose_inventory_lists_a_webhook_is_known_to_the_rule() -> None:
    # a chart added with a webhook the rule does not know would let its objects race it
    root = Path(__file__).resolve().parents[2]
    hooked = set()
    for path in sorted(root.glob("infra/**/inventory*.yaml")):
        doc = yaml.safe_load(path.read_text())
        kinds = {o.get("kind") for o in doc.get("objects") or []}
        if kinds & {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}:
            hooked.add(chart_name(doc["helm"]))
    assert hooked >= {"aws-load-balancer-controller", "cert-manager", "kserve-resources"}
    assert hooked - set(WEBHOOKS) == set()
