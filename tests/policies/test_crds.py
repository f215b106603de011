"""k8s-kind-served: every object's kind is built in or served by a CRD ordered before it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import messages, res

from policies.rules.crds import crd_record

RULE = "k8s-kind-served"
ROOT = Path(__file__).resolve().parents[2]
RELEASE = "kubernetes:helm.sh/v3:Release"
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
KFP_CRDS = (
    "https://github.com/kubeflow/pipelines/manifests/kustomize/env/cert-manager/"
    "cluster-scoped-resources?ref=2.17.0"
)


def after(*deps: dict[str, Any]) -> dict[str, list[dict[str, Any]]] | None:
    return {"": list(deps)} if deps else None


def cluster(version: Any = "1.35") -> dict[str, Any]:
    return res("aws:eks/cluster:Cluster", "cluster", {"version": version})


def monitor(*deps: dict[str, Any], api: str = "monitoring.coreos.com/v1") -> dict[str, Any]:
    return res(
        f"kubernetes:{api}:ServiceMonitor",
        "web-sm",
        {
            "apiVersion": api,
            "kind": "ServiceMonitor",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "endpoints": [{"port": "m"}]},
        },
        deps=after(*deps),
    )


def prometheus_stack(values: Any = None, version: str = "79.5.0", **more: Any) -> dict[str, Any]:
    return res(
        RELEASE,
        "monitoring",
        {
            "chart": "kube-prometheus-stack",
            "version": version,
            "repositoryOpts": {"repo": "https://prometheus-community.github.io/helm-charts"},
            "values": {} if values is None else values,
            **more,
        },
    )


def crd_object(served: Any = True, kind: Any = "Widget") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": kind, "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": served, "storage": True}],
        },
    }


def native_crd(**kw: Any) -> dict[str, Any]:
    return res(CRD, "widgets", crd_object(**kw))


def widget(*deps: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    return res(
        f"kubernetes:example.com/{version}:Widget",
        "w",
        {
            "apiVersion": f"example.com/{version}",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "apps"},
        },
        deps=after(*deps),
    )


def refused(resources: list[dict[str, Any]]) -> list[str]:
    return messages(RULE, resources)


# ------------------------------------------------------------------ served: passing cases


def test_a_custom_resource_after_its_native_crd_passes() -> None:
    crd = native_crd()
    assert refused([cluster(), crd, widget(crd)]) == []


def test_a_custom_resource_after_the_helm_release_that_installs_its_crd_passes() -> None:
    stack = prometheus_stack()
    assert refused([cluster(), stack, monitor(stack)]) == []


def test_a_custom_resource_after_the_manifests_that_install_its_crd_passes() -> None:
    crds = res("kubernetes:kustomize/v2:Directory", "kfp-cluster-scoped", {"directory": KFP_CRDS})
    workflow = res(
        "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate",
        "wt",
        {"metadata": {"name": "wt", "namespace": "kubeflow"}, "spec": {"templates": []}},
        deps=after(crds),
    )
    assert refused([cluster(), crds, workflow]) == []


def test_a_crd_and_its_custom_resource_in_one_yaml_group_pass() -> None:
    # the provider orders a group's CRDs before its custom resources itself
    group = res(
        "kubernetes:yaml/v2:ConfigGroup",
        "widgets",
        {
            "objs": [
                crd_object(),
                {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
            ]
        },
    )
    assert refused([cluster(), group]) == []


def test_a_custom_resource_ordered_through_its_provider_passes() -> None:
    stack = prometheus_stack()
    provider = res("pulumi:providers:kubernetes", "k8s", {}, deps=after(stack))
    sm = monitor()
    sm["provider"] = f"{provider['urn']}::id"
    assert refused([cluster(), stack, provider, sm]) == []


def test_a_child_of_a_remote_component_waits_for_what_its_component_waits_for() -> None:
    # a kustomize Directory's objects are written once the Directory's dependencies are
    # done (the provider constructs it then), though their own dependencies do not say so
    stack = prometheus_stack()
    directory = res(
        "kubernetes:kustomize/v2:Directory",
        "apps",
        {"directory": "https://github.com/acme/apps?ref=v1"},
        deps=after(stack),
    )
    child = monitor()
    child["parent"] = directory["urn"]
    assert refused([cluster(), stack, directory, child]) == []
    # a Python component's children are written at once: its depends_on does not order them
    local = res("mlops:apps:Apps", "apps", {}, deps=after(stack))
    child["parent"] = local["urn"]
    assert len(refused([cluster(), stack, local, child])) == 1


def test_built_in_kinds_need_no_crd() -> None:
    deployment = res(
        "kubernetes:apps/v1:Deployment", "web", {"metadata": {"name": "web"}, "spec": {}}
    )
    namespace = res("kubernetes:core/v1:Namespace", "apps", {"metadata": {"name": "apps"}})
    assert refused([cluster(), deployment, namespace]) == []


# ------------------------------------------------------------------ unserved: failing cases


def test_a_custom_resource_no_crd_serves_is_refused() -> None:
    found = refused([cluster(), monitor()])
    assert len(found) == 1
    assert found[0].startswith(
        "ServiceMonitor 'web' (monitoring.coreos.com/v1): no CustomResourceDefinition in the "
        "plan serves ServiceMonitor in group monitoring.coreos.com, so `pulumi up` fails with "
        '\'no matches for kind "ServiceMonitor" in version "monitoring.coreos.com/v1"\''
    )


def test_a_custom_resource_written_by_the_generic_custom_resource_type_is_checked() -> None:
    cr = res(
        "kubernetes:apiextensions.k8s.io:CustomResource",
        "isvc",
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": "m", "namespace": "team-a"},
        },
    )
    assert [m.split(":")[0] for m in refused([cluster(), cr])] == [
        "InferenceService 'm' (serving.kserve.io/v1beta1)"
    ]


def test_a_release_whose_values_leave_out_the_crds_serves_nothing() -> None:
    stack = prometheus_stack({"crds": {"enabled": False}})
    assert (
        "no CustomResourceDefinition in the plan serves"
        in refused([cluster(), stack, monitor(stack)])[0]
    )


def test_a_release_that_skips_its_crds_directory_serves_nothing() -> None:
    stack = prometheus_stack(skipCrds=True)
    assert (
        "no CustomResourceDefinition in the plan serves"
        in refused([cluster(), stack, monitor(stack)])[0]
    )


def test_cert_managers_crds_come_only_when_its_values_turn_them_on() -> None:
    def cert_manager(values: dict[str, Any]) -> dict[str, Any]:
        return res(
            RELEASE,
            "cert-manager",
            {"chart": "cert-manager", "version": "v1.19.1", "values": values},
        )

    def issuer(dep: dict[str, Any]) -> dict[str, Any]:
        return res(
            "kubernetes:cert-manager.io/v1:ClusterIssuer",
            "ca",
            {"metadata": {"name": "ca"}, "spec": {"selfSigned": {}}},
            deps=after(dep),
        )

    off = cert_manager({})  # the chart's default: crds.enabled false
    on = cert_manager({"crds": {"enabled": True}})
    alias = cert_manager({"installCRDs": True})
    assert len(refused([cluster(), off, issuer(off)])) == 1
    assert refused([cluster(), on, issuer(on)]) == []
    assert refused([cluster(), alias, issuer(alias)]) == []


def test_a_version_the_crd_does_not_serve_is_refused() -> None:
    crd = native_crd()
    found = refused([cluster(), crd, widget(crd, version="v2")])
    assert found == [
        "Widget 'w' (example.com/v2): the CRDs in the plan serve Widget only in v1 "
        "(CustomResourceDefinition widgets.example.com), not v2: `pulumi up` fails with "
        "'no matches for kind'."
    ]
    unserved = native_crd(served=False)
    assert "only in no version" in refused([cluster(), unserved, widget(unserved)])[0]


def test_a_custom_resource_racing_its_crd_is_refused() -> None:
    stack = prometheus_stack()
    found = refused([cluster(), stack, monitor()])
    assert len(found) == 1
    assert found[0].startswith(
        "ServiceMonitor 'web' (monitoring.coreos.com/v1) is served by a CRD that Helm release "
        "'monitoring' (chart kube-prometheus-stack 79.5.0) installs, but the plan does not "
        "order it after that"
    )
    crd = native_crd()
    assert "does not order it after" in refused([cluster(), crd, widget()])[0]


def test_a_built_in_kind_the_cluster_does_not_serve_is_refused() -> None:
    typo = res("kubernetes:apps/v1:Deploymnet", "web", {"metadata": {"name": "web"}})
    removed = res(
        "kubernetes:autoscaling/v2beta2:HorizontalPodAutoscaler", "hpa", {"metadata": {"name": "h"}}
    )
    found = refused([cluster(), typo, removed])
    assert sorted(m.split(":")[0] for m in found) == [
        "Deploymnet 'web' (apps/v1)",
        "HorizontalPodAutoscaler 'h' (autoscaling/v2beta2)",
    ]
    assert "Kubernetes 1.35 serves no Deploymnet in apps/v1" in " ".join(found)


# ------------------------------------------------------------------ fail closed


def test_an_unknown_kind_is_refused_even_beside_sources_the_pack_cannot_read() -> None:
    other_chart = res(RELEASE, "widgets", {"chart": "widget-operator", "version": "1.0.0"})
    other_version = prometheus_stack(version="80.0.0")
    files = res("kubernetes:yaml/v2:ConfigFile", "crds", {"file": "crds.yaml"})
    found = refused([cluster(), other_chart, other_version, files, widget(other_chart)])
    assert len(found) == 1
    assert "no CustomResourceDefinition in the plan serves Widget in group example.com" in found[0]
    for named in (
        "Helm release 'widgets' (chart widget-operator 1.0.0): not in "
        "policies/rules/data/crd-sources.yaml",
        "Helm release 'monitoring' (chart kube-prometheus-stack 80.0.0): not in",
        "ConfigFile 'crds': ConfigFile 'crds': file 'crds.yaml'",
    ):
        assert named in found[0]


def test_values_the_rule_cannot_see_serve_nothing() -> None:
    stack = prometheus_stack({"crds": "[secret]"})
    found = refused([cluster(), stack, monitor(stack)])
    # the runner stops the rule where it reads the secret and refuses, naming it
    assert len(found) == 1
    assert found[0].startswith(
        "Could not see kubernetes:helm.sh/v3:Release 'monitoring' .values.crds"
    )


def test_a_crd_whose_kind_cannot_be_seen_serves_nothing() -> None:
    crd = native_crd(kind="[secret]")
    found = refused([cluster(), crd, widget(crd)])
    assert len(found) == 1
    assert "spec.names.kind" in found[0]


def test_a_cluster_version_the_api_list_lacks_is_refused() -> None:
    found = refused([cluster("1.29"), monitor()])
    assert any(m.startswith("Kubernetes 1.29 (EKS cluster 'cluster') is not in") for m in found)
    hidden = refused([cluster("[secret]"), monitor()])
    assert hidden == [
        "Could not see aws:eks/cluster:Cluster 'cluster' .version: a secret the plan shows "
        "only as [secret] (a `secure:` stack config value, which the offline plan cannot "
        "decrypt); the rule cannot decide without it."
    ]


def test_without_a_cluster_a_kind_must_be_served_by_every_minor() -> None:
    # ServiceCIDR is GA from 1.33: a plan for any cluster cannot count on it
    cidr = res("kubernetes:networking.k8s.io/v1:ServiceCIDR", "c", {"metadata": {"name": "c"}})
    assert len(refused([cidr])) == 1
    assert refused([cluster("1.35"), cidr]) == []


# ------------------------------------------------------------------ the record


def test_each_recorded_source_lists_the_crds_its_inventory_does() -> None:
    """data/crd-sources.yaml and the inventories beside the slices name the same CRDs."""
    inventories: dict[tuple[str, ...], set[str]] = {}
    for path in (ROOT / "infra").rglob("inventory*.yaml"):
        doc = yaml.safe_load(path.read_text())
        if "helm" in doc:
            helm = doc["helm"]
            chart = str(helm["chart"]).rstrip("/").rsplit("/", 1)[-1]
            key: tuple[str, ...] = ("helm", chart, str(helm["version"]))
            entries = doc.get("objects") or []
            inventories[key] = {
                e["name"] for e in entries if e["kind"] == "CustomResourceDefinition"
            }
        for url, entry in (doc.get("kustomize") or {}).items():
            inventories[("kustomize", url)] = {
                e["name"]
                for e in entry.get("objects") or []
                if e["kind"] == "CustomResourceDefinition"
            }
    recorded = {
        ("helm", e["chart"], str(e["version"])): set(e["crds"]) for e in crd_record()["helm"]
    } | {("kustomize", e["directory"]): set(e["crds"]) for e in crd_record()["kustomize"]}
    assert {k: v for k, v in inventories.items() if v} == recorded


@pytest.mark.parametrize("entry", [*crd_record()["helm"], *crd_record()["kustomize"]])
def test_every_recorded_crd_names_its_kind_and_served_versions(entry: dict[str, Any]) -> None:
    assert entry["source"]
    for name, crd in entry["crds"].items():
        assert "." in name and crd["kind"][0].isupper() and crd["versions"], name


# a CRD installed outside the stack (an EKS add-on, another stack): named, with a reason,
# in the pack config; only the versions listed count
EXTERNAL = {"external_crds": ["example.com/Widget@v1: the platform-crds stack installs it first"]}


def test_a_crd_the_pack_config_names_as_installed_elsewhere_serves_its_versions_only() -> None:
    assert messages(RULE, [cluster(), widget()], EXTERNAL) == []
    (message,) = messages(RULE, [cluster(), widget(version="v2")], EXTERNAL)
    assert "no CustomResourceDefinition in the plan serves Widget" in message
    # without the entry, the same object is refused
    assert refused([cluster(), widget()])


def test_an_external_crd_without_its_reason_is_bad_config() -> None:
    from policies.offline import PayloadError

    with pytest.raises(PayloadError, match="external_crds"):
        messages(RULE, [cluster(), widget()], {"external_crds": ["example.com/Widget@v1"]})
