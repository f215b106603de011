"""Every Kubernetes object's kind is served when Pulumi writes it: a built-in API of the
cluster's Kubernetes version, or a CustomResourceDefinition the plan installs before it.

A custom resource (a ServiceMonitor, an InferenceService, a ClusterIssuer...) whose kind no
CRD serves fails ``pulumi up`` ("no matches for kind ... in version ..."); ``pulumi
preview`` does not see it, because pulumi-kubernetes skips the dry run of a kind the
cluster does not know yet. What pulumi-kubernetes v4 does (provider/pkg/await/await.go
``Creation``, provider/pkg/retry/retry.go, read at v4.32.0, 2026-11-30): on a NoMatch error
it resets its discovery cache and retries the create 5 more times, sleeping 1, 2, 4, 8 and
16 s, then fails; it has no awaiter that waits for a CRD to be Established, and its CRD
cache "expects the user to use DependsOn to ensure that the CRD is created first"
(provider/pkg/clients/cache.go). Inside one ``yaml/v2`` group or ``kustomize/v2``
Directory the provider orders CRDs before their custom resources itself (cli-utils'
dependency graph); between resources only the program's ordering does. So a custom
resource is accepted when:

* a CRD in the plan serves its group, kind and version: a ``CustomResourceDefinition``
  object (native, or inline in a yaml ConfigGroup/ConfigFile), a Helm release or chart
  whose CRDs ``data/crd-sources.yaml`` lists for that chart version (and the release's
  values install them), or an upstream kustomize directory listed there;
* and it waits for what installs that CRD (its dependencies, property dependencies,
  provider, transitively; a remote component's children wait for what it waits for:
  `webhooks.Waits`), or comes from the same yaml group or directory. Helm
  installs a chart's CRDs before its other objects and the release resource completes
  after them, so waiting for the release is enough; the 31 s of retries are not, when
  the CRD's release waits minutes for the cluster, cert-manager or a node group.

Built-in kinds are those of ``data/kubernetes-apis.yaml``: Kubernetes' own API list for the
cluster's minor (GA versions; alpha APIs and beta APIs added since 1.24 are off by
default), so a misspelt kind or a removed version (``autoscaling/v2beta2``) is refused too.
With no EKS cluster in the plan, a kind must be served by every minor listed.

Fails closed: a group that is neither built-in nor served by a CRD in the plan is refused,
even when a source the pack cannot read (a chart or a directory not in the record, a
yaml file, values it cannot see) might install it; the message names those sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pulumi_policy import Policy, PolicyResource, ReportViolation, StackValidationArgs

from .capabilities import CHARTS, EKS, chart_name
from .common import as_dict, as_list, config, get, resources_of, stack_policy
from .k8s import YAML_GROUPS, Object, expand_group, hidden, objects
from .webhooks import Waits

DATA = Path(__file__).resolve().parent / "data"
CRD_KIND = ("apiextensions.k8s.io", "CustomResourceDefinition")
KUSTOMIZE = ("kubernetes:kustomize/v2:Directory", "kubernetes:kustomize:Directory")


@cache
def builtin_apis() -> Mapping[str, Mapping[str, frozenset[str]]]:
    """minor -> "group/version" (core: "v1") -> the kinds Kubernetes serves there."""
    doc = yaml.safe_load((DATA / "kubernetes-apis.yaml").read_text())
    return {
        str(minor): {gv: frozenset(kinds) for gv, kinds in apis.items()}
        for minor, apis in doc.items()
    }


@cache
def crd_record() -> Mapping[str, Any]:
    return yaml.safe_load((DATA / "crd-sources.yaml").read_text())


@dataclass(frozen=True)
class Crd:
    group: str
    kind: str
    versions: frozenset[str]


@dataclass
class Source:
    """Something in the plan that installs CRDs (or may: ``opaque``)."""

    resource: PolicyResource
    label: str
    crds: list[Crd] = field(default_factory=list)
    opaque: str = ""  # why what it installs cannot be told ("" when it can)


def _gv(obj: Object) -> tuple[str, str, str]:
    """(group, version, kind) of an object; the core group is ""."""
    api, kind = obj.api_version, obj.kind
    if kind == "CustomResource":  # a resource typed by its inputs (apiextensions.CustomResource)
        api, kind = str(obj.props.get("apiVersion", "")), str(obj.props.get("kind", ""))
    group, _, version = api.rpartition("/")
    return ("" if group == "core" else group), version, kind


def _native_crd(obj: Object) -> tuple[Crd | None, str]:
    spec = obj.props.get("spec")
    group, kind = get(spec, "group"), get(spec, "names", "kind")
    versions = get(spec, "versions")
    for path, value in (("spec.group", group), ("spec.names.kind", kind)):
        if hidden(value) or not isinstance(value, str):
            return None, f"{path} cannot be seen ({value!r})"
    if hidden(versions) or (versions is not None and isinstance(versions, str | Mapping)):
        return None, f"spec.versions cannot be seen ({versions!r})"
    served = set()
    for v in as_list(versions):
        v = as_dict(v)
        if hidden(v.get("name")) or hidden(v.get("served")):
            return None, "a version's name or served flag cannot be seen"
        if v.get("served", True) is not False and isinstance(v.get("name"), str):
            served.add(v["name"])
    return Crd(group, kind, frozenset(served)), ""


def _recorded(entry: Mapping[str, Any]) -> list[Crd]:
    out = []
    for name, crd in as_dict(entry.get("crds")).items():
        group = name.split(".", 1)[1]
        out.append(Crd(group, crd["kind"], frozenset(crd["versions"])))
    return out


def _value(values: Any, dotted: str) -> Any:
    node = values
    for part in dotted.split("."):
        if hidden(node):
            return node
        node = as_dict(node).get(part)
    return node


def _chart_source(release: PolicyResource) -> Source:
    props = release.props
    chart, version = chart_name(props), props.get("version")
    label = f"Helm release '{release.name}' (chart {chart} {version})"
    entry = next(
        (
            e
            for e in crd_record()["helm"]
            if e["chart"] == chart and str(e["version"]) == str(version)
        ),
        None,
    )
    if entry is None:
        return Source(release, label, opaque="not in policies/rules/data/crd-sources.yaml")
    if entry.get("crd_dir") and props.get("skipCrds") is True:
        return Source(release, f"{label} with skipCrds")
    when = entry.get("when")
    if when:
        values = props.get("values")
        settings = [_value(values, p) for p in (when["value"], *when.get("aliases", ()))]
        if any(hidden(s) for s in settings) or hidden(values):
            return Source(release, label, opaque=f"values.{when['value']} cannot be seen")
        first = settings[0] if settings[0] is not None else when["default"]
        if not (first is True or any(s is True for s in settings[1:])):
            return Source(release, f"{label} with {when['value']} off")
    return Source(release, label, _recorded(entry))


def _directory_source(directory: PolicyResource) -> Source:
    path = directory.props.get("directory")
    label = f"kustomize Directory '{directory.name}' ({path})"
    entry = next((e for e in crd_record()["kustomize"] if e["directory"] == path), None)
    if entry is None:
        return Source(directory, label, opaque="not in policies/rules/data/crd-sources.yaml")
    return Source(directory, label, _recorded(entry))


def sources(args: StackValidationArgs) -> Iterator[Source]:
    for r in args.resources:
        if r.resource_type in CHARTS:
            yield _chart_source(r)
        elif r.resource_type in KUSTOMIZE:
            yield _directory_source(r)
        elif r.resource_type in YAML_GROUPS:
            unread = expand_group(r.resource_type, r.name, r.props).unseen
            if unread:
                kind = r.resource_type.rsplit(":", 1)[-1]
                yield Source(r, f"{kind} '{r.name}'", opaque=unread[0])
        for obj in objects(r.resource_type, r.name, r.props):
            if (obj.group, obj.kind) != CRD_KIND:
                continue
            crd, unseen = _native_crd(obj)
            label = f"{obj.prefix()}CustomResourceDefinition {obj.name}"
            yield Source(r, label, [crd] if crd else [], opaque=unseen)


def _cluster_apis(
    args: StackValidationArgs, report: ReportViolation
) -> tuple[str, Mapping[str, frozenset[str]]]:
    """What the cluster serves, and how a message names that cluster."""
    apis = builtin_apis()
    minors: list[str] = []
    for cluster in resources_of(args, EKS):
        version = cluster.props.get("version")
        if hidden(version) or not isinstance(version, str):
            report(
                f"EKS cluster '{cluster.name}''s version cannot be seen ({version!r}): "
                "which built-in APIs it serves is not known.",
                cluster.urn,
            )
        elif version not in apis:
            report(
                f"Kubernetes {version} (EKS cluster '{cluster.name}') is not in "
                "policies/rules/data/kubernetes-apis.yaml: which built-in APIs it serves is "
                "not known (regenerate the file after adding the minor to "
                "infra/base/versions.yaml).",
                cluster.urn,
            )
        else:
            minors.append(version)
    if len(minors) == 1:
        return f"Kubernetes {minors[0]}", apis[minors[0]]
    chosen = minors or list(apis)
    common = {
        gv: frozenset.intersection(*(apis[m].get(gv, frozenset()) for m in chosen))
        for gv in apis[chosen[0]]
    }
    return f"Kubernetes {', '.join(sorted(chosen))} (each)", common


# "<group>/<Kind>@<version>[,<version>...]: <why it can be relied on>"
EXTERNAL_CRD = r"^([a-z0-9.-]+)/([A-Za-z0-9]+)@([a-z0-9]+(?:,[a-z0-9]+)*): (.{20,})$"
SCHEMA: dict[str, dict[str, Any]] = {
    "external_crds": {
        "type": "array",
        "items": {"type": "string", "pattern": EXTERNAL_CRD},
        "default": [],
        "description": "CRDs the cluster serves before this stack runs, installed elsewhere "
        "(an EKS add-on, another stack, the cluster's admins), each "
        "'<group>/<Kind>@<versions>: <why it can be relied on>' "
        "(e.g. 'crd.k8s.amazonaws.com/ENIConfig@v1alpha1: the vpc-cni add-on installs it').",
    },
}


def _external(args: StackValidationArgs) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for entry in as_list(config(args, "external_crds", [])):
        m = re.match(EXTERNAL_CRD, str(entry))
        if m:  # the schema refuses any other
            out.setdefault((m.group(1), m.group(2)), set()).update(m.group(3).split(","))
    return out


def _check(args: StackValidationArgs, report: ReportViolation) -> None:
    written = [
        (r, obj) for r in args.resources for obj in objects(r.resource_type, r.name, r.props)
    ]
    if not written:
        return
    cluster, apis = _cluster_apis(args, report)
    # a group any minor serves is Kubernetes' own: no CRD can serve a kind in it
    builtin_groups = {gv.rpartition("/")[0] for minor in builtin_apis().values() for gv in minor}
    found = list(sources(args))
    external = _external(args)
    waits = Waits(args)
    for resource, obj in written:
        group, version, kind = _gv(obj)
        what = f"{obj.prefix()}{kind} '{obj.name}' ({group + '/' if group else ''}{version})"
        if group in builtin_groups:
            gv = f"{group}/{version}" if group else version
            base = kind.removesuffix("Patch").removesuffix("List")
            if base not in apis.get(gv, frozenset()) and kind not in apis.get(gv, frozenset()):
                report(
                    f"{what}: {cluster} serves no {kind} in {gv} (its API list: "
                    "policies/rules/data/kubernetes-apis.yaml), so `pulumi up` fails with "
                    "'no matches for kind'. Use a kind and version the cluster serves.",
                    resource.urn,
                )
            continue
        if version in external.get((group, kind), set()):
            continue  # served before the stack runs (the pack config says by what)
        serving = [s for s in found for c in s.crds if (c.group, c.kind) == (group, kind)]
        if not serving:
            opaque = [s for s in found if s.opaque]
            might = (
                "; what these install cannot be told, so none counts: "
                + "; ".join(f"{s.label}: {s.opaque}" for s in opaque)
                if opaque
                else ""
            )
            report(
                f"{what}: no CustomResourceDefinition in the plan serves {kind} in group "
                f"{group or '(core)'}, so `pulumi up` fails with 'no matches for kind "
                f'"{kind}" in version "{group}/{version}"\' (ensure CRDs are installed '
                f"first){might}. Install the CRD in the same stack (its chart, its "
                "manifests, or the CustomResourceDefinition), or drop the object.",
                resource.urn,
            )
            continue
        versions = {
            v
            for s in serving
            for c in s.crds
            if (c.group, c.kind) == (group, kind)
            for v in c.versions
        }
        if version not in versions:
            report(
                f"{what}: the CRDs in the plan serve {kind} only in "
                f"{', '.join(sorted(versions)) or 'no version'} "
                f"({'; '.join(s.label for s in serving)}), not {version}: `pulumi up` fails "
                "with 'no matches for kind'.",
                resource.urn,
            )
            continue
        # what it must wait for: a source whose CRD serves this very version
        serving = [
            s
            for s in serving
            if any((c.group, c.kind) == (group, kind) and version in c.versions for c in s.crds)
        ]
        on = waits.on(resource.urn)
        if any(s.resource.urn == resource.urn or s.resource.urn in on for s in serving):
            continue
        report(
            f"{what} is served by a CRD that {' or '.join(s.label for s in serving)} "
            "installs, but the plan does not order it after that: Pulumi writes both at "
            "once, and pulumi-kubernetes retries a kind the cluster does not know yet for "
            "about 31 s only (no wait for the CRD to be Established), so the first "
            "`pulumi up` fails, or not, depending on timing. Make it depend on what "
            "installs the CRD (depends_on, or a provider that does).",
            resource.urn,
        )


TYPES_READ = (
    EKS,
    *CHARTS,
    *KUSTOMIZE,
    *YAML_GROUPS,
    "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    "kubernetes:monitoring.coreos.com/v1:PodMonitor",
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    "kubernetes:cert-manager.io/v1:Certificate",
    "kubernetes:cert-manager.io/v1:Issuer",
    "kubernetes:cert-manager.io/v1:ClusterIssuer",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    "kubernetes:serving.kserve.io/v1alpha1:ServingRuntime",
    "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime",
)

POLICIES: list[Policy] = [
    stack_policy(
        "k8s-kind-served",
        "Every Kubernetes object is of a kind the cluster serves: a built-in API of its "
        "Kubernetes version, or a CRD the plan installs and orders before it.",
        _check,
        types=TYPES_READ,
        schema=SCHEMA,
        remediation="Install the CRD in the same stack (a CustomResourceDefinition, the "
        "chart or the manifests that carry it) and make the object depend on it; list a CRD "
        "installed elsewhere in the policy's external_crds with the reason; or use a kind "
        "and version the cluster serves.",
    ),
]
