"""What a stack puts in its clusters, upstream manifests and charts included.

Native Kubernetes resources are in the plan. A kustomize Directory or a Helm release is
one resource in the plan but many objects in the cluster, and neither kustomize nor Helm
can reach GitHub or a chart repository here; so each pinned upstream source has a dated,
sourced inventory (``inventory*.yaml`` beside the slice that uses it) listing the objects
and images it creates, written from its published sources. This module expands every
Directory and Release through them, applying what a local overlay does to the set
(namespace, ``$patch: delete``, image overrides), and fails closed: a remote resource or
chart without an inventory, an overlay feature it cannot model, a Release whose values
differ from the ones its inventory was written for, or an object whose name it cannot
see is a problem, never a silent pass.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from infra.base import yamlio
from mlops.errors import UsageError

INVENTORY_GLOB = "inventory*.yaml"
KUSTOMIZE = "kubernetes:kustomize/"
HELM = "kubernetes:helm.sh/"
YAML = "kubernetes:yaml"
# kinds the API server keeps outside namespaces (kustomize's namespace leaves them alone)
CLUSTER_SCOPED = frozenset(
    {
        "APIService",
        "CSIDriver",
        "CertificateSigningRequest",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
    }
)
# what every EKS cluster holds before the first `pulumi up`
EKS_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
# kustomization keys that do not change which objects exist, or their names
NEUTRAL_KEYS = frozenset(
    {
        "apiVersion",
        "kind",
        "namespace",
        "resources",
        "patches",
        "replacements",
        "images",
        "labels",
        "commonLabels",
        "commonAnnotations",
        "sortOptions",
    }
)
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def cluster_scoped(kind: str) -> bool:
    return kind in CLUSTER_SCOPED or kind.startswith("Cluster")


@dataclass(frozen=True, order=True)
class Key:
    """Who an object is, to the API server (per cluster)."""

    group: str
    kind: str
    namespace: str  # "" for cluster-scoped kinds
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        group = f".{self.group}" if self.group else ""
        return f"{self.kind}{group} {where}"


@dataclass(frozen=True)
class Image:
    image: str
    at: str  # "<Kind>/<name> containers/<c>[ env/<VAR>|args/<flag>]" or "<Kind>/<name> data/<key>"

    @property
    def object(self) -> str:
        return self.at.split(" ", 1)[0]


@dataclass
class Found:
    """An upstream source's objects (keys) and images, as a writer would create them."""

    keys: list[Key] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Inventories:
    kustomize: dict[str, tuple[Path, dict[str, Any]]] = field(default_factory=dict)
    helm: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def load(cls, roots: Iterable[Path]) -> Inventories:
        found = cls()
        seen: set[Path] = set()
        for root in roots:
            for path in sorted(root.rglob(INVENTORY_GLOB)):
                if path in seen or any(p.startswith(".") for p in path.relative_to(root).parts):
                    continue
                seen.add(path)
                try:
                    doc = yamlio.load(path.read_text())
                except yaml.YAMLError as exc:
                    raise UsageError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from None
                if not isinstance(doc, dict) or not ({"kustomize", "helm"} & set(doc)):
                    raise UsageError(f"{path}: an inventory has a 'kustomize' or 'helm' section")
                for url, entry in (doc.get("kustomize") or {}).items():
                    found.kustomize[url] = (path, entry)
                if "helm" in doc:
                    found.helm.append((path, doc))
        return found


def _keys(entries: Iterable[dict[str, Any]]) -> list[Key]:
    return [
        Key(str(e.get("group") or ""), str(e["kind"]), str(e.get("namespace") or ""), e["name"])
        for e in entries
    ]


def _images(entries: Iterable[Any] | None) -> list[Image]:
    return [
        Image(e["image"], e.get("at", "")) if isinstance(e, dict) else Image(str(e), "")
        for e in entries or []
    ]


def _group(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    pod = spec if doc.get("kind") == "Pod" else (spec.get("template") or {}).get("spec") or {}
    return [
        c
        for c in (*(pod.get("initContainers") or []), *(pod.get("containers") or []))
        if isinstance(c, dict)
    ]


def _doc_images(doc: dict[str, Any]) -> list[Image]:
    obj = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
    out = []
    for c in _containers(doc):
        at = f"{obj} containers/{c.get('name')}"
        if "image" in c:
            out.append(Image(c["image"], at))
        for e in c.get("env") or []:
            if str(e.get("name", "")).endswith("_IMAGE") and isinstance(e.get("value"), str):
                out.append(Image(e["value"], f"{at} env/{e['name']}"))
    if doc.get("kind") == "ConfigMap":
        for k, v in (doc.get("data") or {}).items():
            if k.lower().endswith("image") and isinstance(v, str):
                out.append(Image(v, f"{obj} data/{k}"))
    return out


def _load_docs(path: Path) -> list[dict[str, Any]]:
    try:
        return [d for d in yamlio.load_all(path.read_text()) if isinstance(d, dict)]
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: cannot read ({str(exc).splitlines()[0]})") from None


def _add_docs(found: Found, docs: Iterable[dict[str, Any]], where: str) -> None:
    """Objects written out in full (a local manifest, inline YAML)."""
    for d in docs:
        meta = d.get("metadata") or {}
        kind, name = str(d.get("kind")), meta.get("name")
        if not isinstance(name, str) or not name:
            found.problems.append(f"{where}: a {kind} without metadata.name")
            continue
        ns = "" if cluster_scoped(kind) else str(meta.get("namespace") or "default")
        found.keys.append(Key(_group(str(d.get("apiVersion", ""))), kind, ns, name))
        found.images += _doc_images(d)


def _set_image(images: list[Image], image: Image) -> list[Image]:
    """The image a patch sets at its place (added: a patch may add a container)."""
    return [*(i for i in images if i.at != image.at), image]


def _apply_images_field(images: list[Image], entries: list[dict[str, Any]]) -> list[Image]:
    """kustomize's ``images:`` transformer."""
    out = []
    for img in images:
        if not re.search(r" containers/[^ ]+$", img.at):
            out.append(img)  # env values and data keys are not the transformer's
            continue
        ref = img.image
        last = ref.rsplit("/", 1)[-1]
        bare = ref[: len(ref) - len(last)] + last.split("@")[0].split(":")[0]
        for e in entries:
            if e.get("name") == bare:
                new = e.get("newName", bare)
                if "digest" in e:
                    ref = f"{new}@{e['digest']}"
                elif "newTag" in e:
                    ref = f"{new}:{e['newTag']}"
                else:
                    ref = new + ref[len(bare) :]
        out.append(replace(img, image=ref))
    return out


def expand_kustomization(directory: Path, inventories: Inventories, shown: str) -> Found:
    """The objects and images ``kustomize build directory`` creates, from its files and
    the inventories of the remote resources it references."""
    found = Found()
    kfile = next((directory / n for n in KUSTOMIZATION_FILES if (directory / n).is_file()), None)
    if kfile is None:
        found.problems.append(f"{shown}: no kustomization.yaml")
        return found
    docs = _load_docs(kfile)
    k = docs[0] if docs else {}
    for key in sorted(set(k) - NEUTRAL_KEYS):
        found.problems.append(
            f"{shown}/{kfile.name}: '{key}' may create or rename objects, which this check "
            "cannot follow (list what it makes in an inventory, or drop it)"
        )
    for res in k.get("resources") or []:
        if "://" in res or res.startswith("github.com/"):
            entry = inventories.kustomize.get(res)
            if entry is None:
                found.problems.append(
                    f"{shown}: resource {res} has no inventory of the objects it creates "
                    f"({INVENTORY_GLOB} beside the overlay)"
                )
                continue
            found.keys += _keys(entry[1].get("objects") or [])
            found.images += _images(entry[1].get("images") or [])
            continue
        target = directory / res
        if target.is_dir():
            sub = expand_kustomization(target, inventories, posixpath.join(shown, res))
            found.keys += sub.keys
            found.images += sub.images
            found.problems += sub.problems
        elif target.is_file():
            _add_docs(found, _load_docs(target), posixpath.join(shown, res))
        else:
            found.problems.append(f"{shown}: resource {res} does not exist")
    for rep in k.get("replacements") or []:
        for target in rep.get("targets") or []:
            renames = [
                p
                for p in target.get("fieldPaths") or []
                if p.split(".")[:2] in (["metadata", "name"], ["metadata", "namespace"])
            ]
            if renames:
                found.problems.append(
                    f"{shown}/{kfile.name}: a replacement sets {renames[0]}, which this check "
                    "cannot follow"
                )
    for patch in k.get("patches") or []:
        _apply_patch(found, patch, directory, kfile, shown)
    if k.get("images"):
        found.images = _apply_images_field(found.images, k["images"])
    namespace = k.get("namespace")
    if namespace:
        # kustomize sets it on every namespaced object (inventories list cluster-scoped
        # objects without a namespace)
        found.keys = [
            replace(key, namespace=namespace) if key.namespace else key for key in found.keys
        ]
    return found


def _apply_patch(
    found: Found, patch: dict[str, Any], directory: Path, kfile: Path, shown: str
) -> None:
    where = f"{shown}/{kfile.name}"
    options = patch.get("options") or {}
    if options.get("allowNameChange") or options.get("allowKindChange"):
        found.problems.append(f"{where}: a patch may rename objects (options), not followed")
        return
    text = patch.get("patch")
    if text is None and "path" in patch:
        if not (directory / patch["path"]).is_file():
            found.problems.append(f"{where}: patch file {patch['path']} does not exist")
            return
        text = (directory / patch["path"]).read_text()
    try:
        docs = list(yamlio.load_all(text or ""))
    except yaml.YAMLError:
        found.problems.append(f"{where}: a patch is not YAML")
        return
    for doc in docs:
        if isinstance(doc, list):  # JSON 6902
            for op in doc:
                path = str((op or {}).get("path", ""))
                if path.startswith(("/metadata/name", "/metadata/namespace", "/kind")):
                    found.problems.append(f"{where}: a JSON patch changes {path}, not followed")
            continue
        if not isinstance(doc, dict):
            continue
        kind = doc.get("kind")
        name = (doc.get("metadata") or {}).get("name")
        if doc.get("$patch") == "delete":
            hit = [key for key in found.keys if key.kind == kind and key.name == name]
            if not hit:
                found.problems.append(
                    f"{where}: the delete patch of {kind} {name} matches nothing (did the "
                    "upstream ref or its inventory change?)"
                )
            found.keys = [key for key in found.keys if key not in hit]
            obj = f"{kind}/{name}"
            found.images = [i for i in found.images if i.object != obj]
            continue
        for img in _doc_images(doc):
            found.images = _set_image(found.images, img)


def _value_at(values: Any, dotted: str) -> Any:
    node = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def expand_release(typ: str, name: str, inputs: dict[str, Any], inventories: Inventories) -> Found:
    """The objects and images a Helm release creates, from its chart's inventory."""
    found = Found()
    chart, version = inputs.get("chart"), inputs.get("version")
    repo = (inputs.get("repositoryOpts") or {}).get("repo")
    release_name = inputs.get("name")
    namespace = inputs.get("namespace") or "default"
    this = f"{typ} {name}"
    match = [
        (path, doc)
        for path, doc in inventories.helm
        if doc["helm"].get("chart") == chart
        and doc["helm"].get("version") == version
        and doc["helm"].get("repository") == repo
    ]
    if not match:
        found.problems.append(
            f"{this}: chart {chart} {version} has no inventory of the objects it creates "
            f"({INVENTORY_GLOB} beside the slice that installs it)"
        )
        return found
    path, doc = match[0]
    helm = doc["helm"]
    release = helm.get("release") or {}
    if (release.get("name"), release.get("namespace")) != (release_name, namespace):
        found.problems.append(
            f"{this}: {path.name} lists the objects of release "
            f"{release.get('namespace')}/{release.get('name')}, not {namespace}/{release_name}"
        )
    if inputs.get("valueYamlFiles"):
        found.problems.append(f"{this}: values from files are not compared with {path.name}")
    for dotted, assumed in (helm.get("values") or {}).items():
        actual = _value_at(inputs.get("values"), dotted)
        if actual != assumed:
            found.problems.append(
                f"{this}: {path.name} was written for {dotted} = {assumed!r}, the plan sets "
                f"{actual!r} (list the objects these values create)"
            )
    found.keys = _keys(doc.get("objects") or [])
    if inputs.get("createNamespace"):
        found.keys.append(Key("", "Namespace", "", namespace))
    found.images = _images(doc.get("images") or [])
    return found


def expand_yaml(
    typ: str, name: str, inputs: dict[str, Any], cwd: Path, inventories: Inventories
) -> Found:
    """ConfigFile / ConfigGroup: local files and inline YAML or objects are read; a remote
    file needs an inventory, like a remote kustomize resource."""
    found = Found()
    this = f"{typ} {name}"
    files = inputs.get("files") if "files" in inputs else inputs.get("file")
    for f in [files] if isinstance(files, str) else files or []:
        if not isinstance(f, str):
            found.problems.append(f"{this}: a file name is not known")
        elif "://" in f:
            entry = inventories.kustomize.get(f)
            if entry is None:
                found.problems.append(f"{this}: {f} has no inventory ({INVENTORY_GLOB})")
            else:
                found.keys += _keys(entry[1].get("objects") or [])
                found.images += _images(entry[1].get("images"))
        else:
            for path in sorted(cwd.glob(f)) if any(c in f for c in "*?[") else [cwd / f]:
                _add_docs(found, _load_docs(path), f)
    texts = inputs.get("yaml")
    for text in [texts] if isinstance(texts, str) else texts or []:
        try:
            docs = [d for d in yamlio.load_all(str(text)) if isinstance(d, dict)]
        except yaml.YAMLError:
            found.problems.append(f"{this}: its yaml is not YAML")
            continue
        _add_docs(found, docs, this)
    _add_docs(found, [o for o in inputs.get("objs") or [] if isinstance(o, dict)], this)
    if inputs.get("resourcePrefix"):
        found.problems.append(f"{this}: resourcePrefix renames objects, not followed")
    return found


def native_key(typ: str, inputs: dict[str, Any]) -> Key | str | None:
    """The object a native resource creates; None when it creates none of its own (a
    patch, a list) or names itself uniquely (auto-naming); a string when it cannot tell."""
    _, api, kind = typ.split(":", 2)
    if kind.endswith(("Patch", "List")):
        return None
    group = _group(api) if "/" in api else ""
    group = "" if group == "core" else group
    meta = inputs.get("metadata") or {}
    name = meta.get("name")
    if name is None:
        return None  # auto-named (unique suffix) or generateName
    if not isinstance(name, str) or name in ("[unknown]", "[secret]"):
        return f"{typ}: metadata.name is not known at plan time"
    ns = "" if cluster_scoped(kind) else meta.get("namespace") or "default"
    if not isinstance(ns, str) or ns in ("[unknown]", "[secret]"):
        return f"{typ} {name}: metadata.namespace is not known at plan time"
    return Key(group, kind, ns, name)


def expand(resource: Any, cwd: Path, inventories: Inventories) -> Found | None:
    """What one planned resource puts in the cluster (None: not a Kubernetes object)."""
    typ, inputs = resource["type"], resource.get("inputs") or {}
    if not typ.startswith("kubernetes:"):
        return None
    # Directory, Chart (v4) and the YAML groups are components: their objects are theirs
    if not resource["custom"] and not typ.startswith((KUSTOMIZE, HELM, YAML)):
        return None
    if typ.startswith(KUSTOMIZE):
        directory = inputs.get("directory")
        if not isinstance(directory, str):
            return Found(problems=[f"{typ} {resource['name']}: directory is not known"])
        if "://" in directory or directory.startswith("github.com/"):
            entry = inventories.kustomize.get(directory)
            if entry is None:
                return Found(
                    problems=[
                        f"{typ} {resource['name']}: {directory} has no inventory of the "
                        f"objects it creates ({INVENTORY_GLOB})"
                    ]
                )
            return Found(_keys(entry[1].get("objects") or []), _images(entry[1].get("images")))
        found = expand_kustomization(cwd / directory, inventories, directory)
        found.problems = [f"{typ} {resource['name']}: {p}" for p in found.problems]
        return found
    if typ.startswith(HELM):
        return expand_release(typ, resource["name"], inputs, inventories)
    if typ.startswith(YAML):
        return expand_yaml(typ, resource["name"], inputs, cwd, inventories)
    key = native_key(typ, inputs)
    if key is None:
        return Found()
    if isinstance(key, str):
        return Found(problems=[key])
    return Found(keys=[key])


def walk(
    resources: Iterable[dict[str, Any]], cwd: Path, inventories: Inventories
) -> Iterator[tuple[dict[str, Any], Found]]:
    for r in resources:
        found = expand(r, cwd, inventories)
        if found is not None:
            yield r, found
