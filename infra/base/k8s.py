"""Kubernetes building blocks every in-cluster component shares.

Plain functions returning plain dicts, so components, tests and the policy pack agree
on what "restricted" means: non-root, no privilege escalation, no capabilities,
read-only root filesystem, RuntimeDefault seccomp, and limits on every container.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from infra.base.aws_calls import AwsCall, annotation

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
MANAGED_BY = {"app.kubernetes.io/managed-by": "mlops-platform"}
# Pod Security Admission: enforce, audit and warn at `restricted` (latest policy version).
RESTRICTED_NAMESPACE_LABELS = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")
}
# A UID outside the range images commonly bake in, so nothing relies on a named user.
NON_ROOT_UID = 10001


def labels(app: str, component: str | None = None) -> dict[str, str]:
    out = {"app.kubernetes.io/name": app, **MANAGED_BY}
    if component:
        out["app.kubernetes.io/component"] = component
    return out


def container_security_context(read_only_root: bool = True) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": read_only_root,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security_context(uid: int = NON_ROOT_UID) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def tmp_volume(size: str = "256Mi") -> tuple[dict[str, Any], dict[str, Any]]:
    """(volume, mount) of a size-limited emptyDir at /tmp, for read-only root filesystems."""
    return (
        {"name": "tmp", "emptyDir": {"sizeLimit": size}},
        {"name": "tmp", "mountPath": "/tmp"},
    )


def service_account_metadata(
    name: str,
    namespace: pulumi.Input[str],
    role_arn: pulumi.Input[str] | None,
    calls: Sequence[AwsCall] = (),
) -> Any:  # Any: pulumi_kubernetes' TypedDicts reject a plain dict[str, Any]
    """A service account's metadata; bound to ``role_arn`` (IRSA), it declares the AWS
    ``calls`` its workload makes (`infra.base.aws_calls`)."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels(name)}
    if role_arn is not None:
        meta["annotations"] = {IRSA_ANNOTATION: role_arn, **(annotation(calls) if calls else {})}
    return meta


def config_hash(*parts: Any, n: int = 8) -> str:
    """Short stable digest of rendered configuration (names Jobs that must re-run on change)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def env_list(values: Mapping[str, pulumi.Input[str]]) -> list[dict[str, Any]]:
    return [{"name": k, "value": v} for k, v in sorted(values.items())]


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
