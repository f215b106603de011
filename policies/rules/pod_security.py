"""Pod Security admission, offline: the Pod Security Standards evaluated on the pods the
plan writes, at the level each pod's namespace enforces.

**Controls** (Kubernetes' PodSecurity admission, ``k8s.io/pod-security-admission`` policy
checks at the latest policy version, read 2026-11-30 at commit 8f84a87; the same list as
https://kubernetes.io/docs/concepts/security/pod-security-standards/):

* baseline: HostProcess, Host Namespaces, Privileged Containers, Capabilities (add only the
  baseline set), HostPath Volumes, Host Ports, Host Probes / Lifecycle Hooks, AppArmor,
  SELinux, /proc Mount Type, Seccomp (never Unconfined), Sysctls (the safe set);
* restricted, in addition: Volume Types, Privilege Escalation, Running as Non-root,
  Running as Non-root user, Seccomp (RuntimeDefault or Localhost, set), Capabilities (drop
  ALL, add only NET_BIND_SERVICE). Windows pods (``spec.os.name: windows``) skip the
  Linux-only ones, and pods in a user namespace (``hostUsers: false``) the root ones, as the
  admission plugin does. Sysctls are judged by the set every version from 1.32 allows (the
  two 1.37 additions are refused: the cluster may be older).

**Levels.** A namespace enforces what its ``pod-security.kubernetes.io/enforce`` label says;
a Namespace of the plan without the label enforces the API server's default
(``default_level``, ``privileged`` on EKS, which configures no PodSecurity defaults). A
namespace the plan does not declare, or whose label cannot be read, cannot be judged: that
is reported, never assumed.

**KServe.** An InferenceService is not a pod: KServe makes one per component from the
component's pod fields, its serving runtime's containers (the model block merged over the
runtime's ``kserve-container``) and what its webhook injects, taken from the dated record
``data/kserve-injected.yaml`` and the values of the plan's ``kserve-resources`` release
(the ``inferenceservice-config`` and ``ClusterStorageContainer`` the chart renders).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .common import SECRET, as_dict, as_int, as_list, get
from .k8s import KSERVE_FRAMEWORKS, UNKNOWN, Object, hidden

LEVELS = ("privileged", "baseline", "restricted")
ENFORCE = "pod-security.kubernetes.io/enforce"
DEFAULT_LEVEL = "privileged"
RECORD = Path(__file__).resolve().parent / "data" / "kserve-injected.yaml"

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    }
)
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _unseen(value: Any) -> bool:
    return isinstance(value, str) and value in (SECRET, UNKNOWN)


@dataclass(frozen=True)
class Finding:
    container: str  # "" for the pod itself
    control: str
    detail: str


@dataclass
class Pod:
    """A pod as admission sees it: pod-level fields and every container, labelled."""

    spec: Mapping[str, Any]
    containers: list[tuple[str, Mapping[str, Any]]]
    annotations: Mapping[str, Any] = field(default_factory=dict)
    partial: bool = False  # a patch: only what it sets is judged


def _bool(value: Any) -> bool | str | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return "hidden"


class _Eval:
    def __init__(self, pod: Pod, level: str) -> None:
        self.pod = pod
        self.level = level
        self.out: list[Finding] = []
        raw = pod.spec.get("securityContext")
        self.pod_ctx = as_dict(raw)
        if raw is not None and not isinstance(raw, Mapping):
            self.bad("", "Security context", f"the pod's securityContext cannot be seen ({raw!r})")
        self.ctxs: list[tuple[str, Mapping[str, Any]]] = []
        for label, c in pod.containers:
            craw = c.get("securityContext")
            if craw is not None and not isinstance(craw, Mapping):
                self.bad(label, "Security context", f"securityContext cannot be seen ({craw!r})")
            self.ctxs.append((label, as_dict(craw)))
        self.windows = get(pod.spec, "os", "name") == "windows"
        self.user_ns = _bool(pod.spec.get("hostUsers")) is False

    def bad(self, container: str, control: str, detail: str) -> None:
        self.out.append(Finding(container, control, detail))

    def flag(self, where: str, control: str, value: Any, allowed: bool = False) -> None:
        """A boolean that must be unset or false (``allowed`` True: must not be false)."""
        v = _bool(value)
        if v == "hidden":
            self.bad(where, control, f"set to a value the pack cannot see ({value!r})")
        elif v is True and not allowed:
            self.bad(where, control, "set to true")

    # ---------------------------------------------------------------- baseline
    def baseline(self) -> None:
        spec = self.pod.spec
        self.flag("", "HostProcess", get(self.pod_ctx, "windowsOptions", "hostProcess"))
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            v = _bool(spec.get(key))
            if v is True:
                self.bad("", "Host Namespaces", f"{key}: true")
            elif v == "hidden":
                self.bad("", "Host Namespaces", f"{key} cannot be seen")
        self._volumes(restricted=False)
        self._apparmor("", self.pod_ctx)
        self._selinux("", self.pod_ctx)
        self._seccomp_baseline("", self.pod_ctx)
        sysctls = self.pod_ctx.get("sysctls")
        for s in as_list(sysctls):
            name = get(s, "name")
            if name not in SAFE_SYSCTLS:
                self.bad("", "Sysctls", f"sysctl {name!r} is not in the safe set")
        for k, v in as_dict(self.pod.annotations).items():
            if str(k).startswith(APPARMOR_ANNOTATION) and not (
                v in ("", "runtime/default") or str(v).startswith("localhost/")
            ):
                self.bad("", "AppArmor", f"annotation {k}: {v!r}")
        for (label, c), (_, ctx) in zip(self.pod.containers, self.ctxs, strict=True):
            self.flag(label, "HostProcess", get(ctx, "windowsOptions", "hostProcess"))
            self.flag(label, "Privileged Containers", ctx.get("privileged"))
            extra = [
                str(a)
                for a in as_list(get(ctx, "capabilities", "add"))
                if a not in BASELINE_CAPABILITIES
            ]
            if extra:
                self.bad(
                    label, "Capabilities", f"adds {', '.join(extra)} (beyond the baseline set)"
                )
            for port in as_list(c.get("ports")):
                host = get(port, "hostPort")
                if host is not None and as_int(host) != 0:
                    self.bad(label, "Host Ports", f"hostPort {as_int(host) or host!r}")
            hosts = [
                get(c, p, h, "host")
                for p in ("livenessProbe", "readinessProbe", "startupProbe")
                for h in ("httpGet", "tcpSocket")
            ]
            hosts += [
                get(c, "lifecycle", p, h, "host")
                for p in ("postStart", "preStop")
                for h in ("httpGet", "tcpSocket")
            ]
            for h in hosts:
                if h not in (None, ""):
                    self.bad(label, "Host Probes / Lifecycle Hooks", f"host {h!r}")
            self._apparmor(label, ctx)
            self._selinux(label, ctx)
            self._seccomp_baseline(label, ctx)
            if self.level == "baseline" and not self.user_ns:
                self._proc_mount(label, ctx)

    def _volumes(self, restricted: bool) -> None:
        volumes = self.pod.spec.get("volumes")
        if volumes is not None and (isinstance(volumes, str) or not isinstance(volumes, Sequence)):
            self.bad("", "Volume Types", f"the pod's volumes cannot be seen ({volumes!r})")
            return
        for v in as_list(volumes):
            if not isinstance(v, Mapping):
                self.bad("", "Volume Types", f"a volume cannot be seen ({v!r})")
                continue
            sources = [k for k in v if k != "name"]
            if "hostPath" in sources and not restricted:
                self.bad(
                    "",
                    "HostPath Volumes",
                    f"volume '{v.get('name')}' mounts {get(v, 'hostPath', 'path')}",
                )
            if restricted:
                wrong = [s for s in sources if s not in RESTRICTED_VOLUMES]
                if wrong or not sources:
                    self.bad(
                        "",
                        "Volume Types",
                        f"volume '{v.get('name')}' is of type {', '.join(wrong) or 'unknown'}",
                    )

    def _apparmor(self, where: str, ctx: Mapping[str, Any]) -> None:
        kind = get(ctx, "appArmorProfile", "type")
        if kind is not None and kind not in ("RuntimeDefault", "Localhost"):
            self.bad(where, "AppArmor", f"appArmorProfile.type {kind!r}")

    def _selinux(self, where: str, ctx: Mapping[str, Any]) -> None:
        opts = ctx.get("seLinuxOptions")
        if opts is None:
            return
        opts = as_dict(opts)
        if opts.get("type") not in (None, *SELINUX_TYPES):
            self.bad(where, "SELinux", f"seLinuxOptions.type {opts.get('type')!r}")
        for key in ("user", "role"):
            if opts.get(key) not in (None, ""):
                self.bad(where, "SELinux", f"seLinuxOptions.{key} is set")

    def _seccomp_baseline(self, where: str, ctx: Mapping[str, Any]) -> None:
        if get(ctx, "seccompProfile", "type") == "Unconfined":
            self.bad(where, "Seccomp", "seccompProfile.type Unconfined")

    def _proc_mount(self, where: str, ctx: Mapping[str, Any]) -> None:
        if ctx.get("procMount") not in (None, "Default"):
            self.bad(where, "/proc Mount Type", f"procMount {ctx.get('procMount')!r}")

    # ---------------------------------------------------------------- restricted
    def restricted(self) -> None:
        self._volumes(restricted=True)
        partial = self.pod.partial
        pod_nonroot = _bool(self.pod_ctx.get("runAsNonRoot"))
        pod_seccomp = get(self.pod_ctx, "seccompProfile", "type")
        if pod_nonroot is False and not self.user_ns:
            self.bad("", "Running as Non-root", "the pod sets runAsNonRoot: false")
        if self.pod_ctx.get("runAsUser") == 0 and not self.user_ns:
            self.bad("", "Running as Non-root user", "the pod sets runAsUser: 0")
        if (
            not self.windows
            and pod_seccomp is not None
            and pod_seccomp not in ("RuntimeDefault", "Localhost")
        ):
            self.bad("", "Seccomp", f"the pod's seccompProfile.type is {pod_seccomp!r}")
        for label, ctx in self.ctxs:
            self._proc_mount(label, ctx)
            if not self.user_ns:
                nonroot = _bool(ctx.get("runAsNonRoot"))
                if nonroot == "hidden" or pod_nonroot == "hidden":
                    self.bad(label, "Running as Non-root", "runAsNonRoot cannot be seen")
                elif nonroot is False or (
                    nonroot is None and pod_nonroot is not True and not partial
                ):
                    self.bad(
                        label,
                        "Running as Non-root",
                        "runAsNonRoot is not true (container or pod securityContext)",
                    )
                if ctx.get("runAsUser") == 0:
                    self.bad(label, "Running as Non-root user", "runAsUser: 0")
            if self.windows:
                continue
            escalation = _bool(ctx.get("allowPrivilegeEscalation"))
            if escalation is True or escalation == "hidden" or (escalation is None and not partial):
                self.bad(label, "Privilege Escalation", "allowPrivilegeEscalation is not false")
            seccomp = get(ctx, "seccompProfile", "type")
            if seccomp is not None and seccomp not in ("RuntimeDefault", "Localhost"):
                self.bad(label, "Seccomp", f"seccompProfile.type is {seccomp!r}")
            elif seccomp is None and pod_seccomp is None and not partial:
                self.bad(
                    label,
                    "Seccomp",
                    "seccompProfile.type is not set to RuntimeDefault "
                    "or Localhost (container or pod securityContext)",
                )
            caps = as_dict(ctx.get("capabilities"))
            if "ALL" not in [d for d in as_list(caps.get("drop"))] and (
                not partial or caps.get("drop") is not None
            ):
                self.bad(label, "Capabilities", "capabilities.drop does not include ALL")
            extra = [str(a) for a in as_list(caps.get("add")) if a != "NET_BIND_SERVICE"]
            if extra:
                self.bad(
                    label,
                    "Capabilities",
                    f"adds {', '.join(extra)} (only NET_BIND_SERVICE may be added)",
                )


def evaluate(pod: Pod, level: str) -> list[Finding]:
    """What admission at ``level`` refuses in ``pod`` (nothing at ``privileged``)."""
    if level == "privileged":
        return []
    ev = _Eval(pod, level)
    ev.baseline()
    if level == "restricted":
        ev.restricted()
    seen: set[Finding] = set()
    return [f for f in ev.out if not (f in seen or seen.add(f))]  # type: ignore[func-returns-value]


# ------------------------------------------------------------------ namespaces


def namespace_levels(namespaces: Sequence[Object], default_level: str) -> dict[str, str | None]:
    """Enforce level of each namespace the plan declares; None when it cannot be read."""
    out: dict[str, str | None] = {}
    for ns in namespaces:
        name = ns.name
        if not isinstance(name, str) or hidden(name):
            continue
        labels = get(ns.props, "metadata", "labels")
        if labels is not None and not isinstance(labels, Mapping):
            out[name] = None
            continue
        value = as_dict(labels).get(ENFORCE)
        if value is None:
            out[name] = default_level
        else:
            out[name] = value if value in LEVELS else None
    return out


# ------------------------------------------------------------------ KServe


@cache
def kserve_records() -> Mapping[str, Any]:
    return yaml.safe_load(RECORD.read_text())


def merge(base: Any, patch: Any) -> Any:
    """``patch`` over ``base``: maps merge key by key (null deletes, as Helm's values and
    strategic merge do), anything else is replaced."""
    if not isinstance(base, Mapping) or not isinstance(patch, Mapping):
        return patch
    out = dict(base)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


@dataclass(frozen=True)
class KServeInstall:
    """The plan's ``kserve-resources`` release, read against the record of its version."""

    version: Any
    values: Mapping[str, Any]  # chart defaults with the plan's values merged over them
    record: Mapping[str, Any] | None
    problem: str | None = None

    def storage_containers(self) -> list[Mapping[str, Any]]:
        """ClusterStorageContainers the chart renders (the `default` one, when enabled)."""
        if self.record is None:
            return []
        enabled = get(self.values, "kserve", "storagecontainer", "enabled")
        if enabled in ("", None):
            enabled = get(self.values, "kserve", "createSharedResources")
        if _bool(enabled) is not True:
            return []
        base = self.record["storage_initializer"]["default_storage_container"]
        context = get(self.values, "kserve", "storage", "containerSecurityContext")
        container: dict[str, Any] = {"image": self.image()}
        if context:
            container["securityContext"] = context
        return [
            {
                "name": base["name"],
                "workloadType": base["workloadType"],
                "supportedUriFormats": base["supportedUriFormats"],
                "container": container,
            }
        ]

    def image(self) -> str:
        storage = as_dict(get(self.values, "kserve", "storage"))
        tag = storage.get("tag") or get(self.values, "kserve", "version")
        return f"{storage.get('image')}:{tag}"

    def mode(self) -> Any:
        return get(self.values, "kserve", "controller", "deploymentMode")


def kserve_install(releases: Sequence[Mapping[str, Any]]) -> KServeInstall | None:
    """The install from the props of the plan's ``kserve-resources`` Helm releases (None:
    the plan installs no KServe controller)."""
    for props in releases:
        chart = props.get("chart")
        if not isinstance(chart, str) or not chart.rstrip("/").endswith("kserve-resources"):
            continue
        version = props.get("version")
        record = kserve_records().get(version) if isinstance(version, str) else None
        values = props.get("values")
        if values is not None and not isinstance(values, Mapping):
            return KServeInstall(
                version, {}, None, f"the values of its release ({values!r}) cannot be seen"
            )
        if record is None:
            return KServeInstall(
                version,
                {},
                None,
                f"there is no record of what KServe "
                f"{version!r} injects (policies/rules/data/"
                "kserve-injected.yaml)",
            )
        return KServeInstall(version, merge(record["chart_defaults"], as_dict(values)), record)
    return None


def uri_supported(storage_container: Mapping[str, Any], uri: str) -> bool:
    for fmt in as_list(get(storage_container, "supportedUriFormats")):
        fmt = as_dict(fmt)
        if isinstance(fmt.get("prefix"), str) and uri.startswith(fmt["prefix"]):
            return True
        if isinstance(fmt.get("regex"), str) and re.match(fmt["regex"], uri):
            return True
    return False


@dataclass
class KServePod:
    where: str
    pod: Pod
    unseen: list[str]


# keys of a model block that are KServe's, not the container's
MODEL_KEYS = ("modelFormat", "runtime", "storageUri", "protocolVersion", "storage", "storageUris")


def _runtimes_for(
    model: Mapping[str, Any], namespace: str | None, runtimes: Sequence[Object]
) -> list[Object]:
    name = model.get("runtime")
    if name is not None:
        own = [
            r
            for r in runtimes
            if r.kind == "ServingRuntime" and r.name == name and r.namespace == namespace
        ]
        return own or [r for r in runtimes if r.kind == "ClusterServingRuntime" and r.name == name]
    fmt = get(model, "modelFormat", "name")
    return [
        r
        for r in runtimes
        if any(
            get(f, "name") == fmt and _bool(get(f, "autoSelect")) is True
            for f in as_list(get(r.props, "spec", "supportedModelFormats"))
        )
        and (r.kind == "ClusterServingRuntime" or r.namespace == namespace)
    ]


def kserve_pods(
    isvc: Object,
    install: KServeInstall | None,
    runtimes: Sequence[Object],
    storage_containers: Sequence[Mapping[str, Any]],
) -> Iterator[KServePod]:
    """The pods KServe makes for ``isvc``: one per component and serving-runtime candidate,
    with the containers its webhook injects."""
    spec = as_dict(isvc.props.get("spec"))
    annotations = as_dict(get(isvc.props, "metadata", "annotations"))
    mode = annotations.get("serving.kserve.io/deploymentMode") or (
        install.mode() if install else None
    )
    for component in ("predictor", "transformer", "explainer"):
        block = spec.get(component)
        if block is None:
            continue
        if not isinstance(block, Mapping):
            yield KServePod(component, Pod({}, []), [f"the {component} ({block!r})"])
            continue
        unseen: list[str] = []
        if install is None:
            unseen.append(
                "the containers KServe injects (the plan installs no kserve-resources release)"
            )
        elif install.problem:
            unseen.append(f"the containers KServe injects: {install.problem}")
        elif mode not in install.record["recorded_modes"]:  # type: ignore[index]
            unseen.append(
                f"the containers injected in deployment mode {mode!r} (Knative's "
                "queue-proxy is not recorded)"
            )
        model = next(
            ((k, block[k]) for k in KSERVE_FRAMEWORKS if isinstance(block.get(k), Mapping)), None
        )
        candidates: list[tuple[str, Mapping[str, Any]]] = [("", {})]
        if model is not None:
            found = _runtimes_for(model[1], isvc.namespace, runtimes)
            if not found:
                unseen.append(
                    f"the serving runtime of {component}.{model[0]} (none in the plan matches it)"
                )
            candidates = [
                (f" on {r.kind} '{r.name}'", as_dict(r.props.get("spec"))) for r in found
            ] or candidates
        for suffix, runtime in candidates:
            pod_spec = {
                **{k: runtime[k] for k in ("hostNetwork", "hostPID", "hostIPC") if k in runtime},
                **block,
            }
            pod_spec["volumes"] = [*as_list(runtime.get("volumes")), *as_list(block.get("volumes"))]
            containers: list[tuple[str, Mapping[str, Any]]] = []
            for c in as_list(runtime.get("containers")):
                c = as_dict(c)
                if model is not None and c.get("name", "kserve-container") == "kserve-container":
                    c = merge(c, {k: v for k, v in model[1].items() if k not in MODEL_KEYS})
                containers.append((f"Container '{c.get('name', 'kserve-container')}'", c))
            for c in as_list(block.get("containers")):
                c = as_dict(c)
                containers.append((f"Container '{c.get('name', '?')}'", c))
            init = [
                (f"Container '{as_dict(c).get('name', '?')}'", as_dict(c))
                for c in as_list(block.get("initContainers"))
            ]
            injected: list[tuple[str, Mapping[str, Any]]] = []
            if install is not None and install.record is not None:
                uris = []
                if model is not None and isinstance(model[1].get("storageUri"), str):
                    uris.append(model[1]["storageUri"])
                uris += [get(u, "uri") for u in as_list(block.get("storageUris"))]
                if model is not None and model[1].get("storage") is not None:
                    unseen.append(
                        f"the storage spec of {component}.{model[0]} (the URI the "
                        "storage initializer reads)"
                    )
                for uri in uris:
                    if not isinstance(uri, str) or hidden(uri):
                        unseen.append(f"the storage URI {uri!r}")
                        continue
                    if uri.startswith("pvc://"):
                        continue
                    if uri.startswith("oci"):
                        unseen.append(f"the modelcar KServe injects for {uri!r} (not recorded)")
                        continue
                    base = dict(install.record["storage_initializer"]["container"])
                    base["image"] = install.image()
                    matching = [
                        s
                        for s in storage_containers
                        if get(s, "workloadType") == "initContainer" and uri_supported(s, uri)
                    ]
                    for s in matching or [{}]:
                        c = merge(base, as_dict(s.get("container")))
                        c["name"] = base["name"]
                        src = (
                            f"ClusterStorageContainer '{s.get('name')}'"
                            if s
                            else "no ClusterStorageContainer"
                        )
                        injected.append(
                            (
                                f"Container 'storage-initializer' (injected by KServe "
                                f"{install.version}, {src})",
                                c,
                            )
                        )
                    break  # the legacy and multi-URI paths both inject one initializer
                if any(block.get(k) is not None for k in install.record["agent"]["when"]):
                    first = containers[0][1] if containers else {}
                    agent = {"name": "agent"}
                    if first.get("securityContext") is not None:
                        agent["securityContext"] = first["securityContext"]
                    injected.append(
                        (f"Container 'agent' (injected by KServe {install.version})", agent)
                    )
            where = f"{component}{suffix}"
            yield KServePod(
                where,
                Pod(pod_spec, [*init, *containers, *injected], as_dict(block.get("annotations"))),
                unseen,
            )
