"""Plans of every environment (and of config variants), computed once per session."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml
from service_helpers import free_port, postgres_database, require_service

from mlops.engine.plan import plan_environment
from mlops.manifests import kubernetes_objects

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod")
__all__ = ["free_port", "postgres_database", "require_service"]


def stack_values(env: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "environments" / f"Pulumi.{env}.yaml").read_text())


@functools.cache
def plan(env: str) -> dict[str, Any]:
    return plan_environment(env, ROOT)


@functools.cache
def variant_plan(name: str, tmp_dir: str) -> dict[str, Any]:
    """dev with OIDC in front, a public domain and DynamoDB as the online store."""
    assert name == "oidc-dynamodb"
    values = copy.deepcopy(stack_values("dev"))
    platform = values["config"]["mlops-platform:platform"]
    platform["online_store"] = {"kind": "dynamodb"}
    comps = platform.setdefault("components", {})
    comps["auth"] = {
        "mode": "oidc",
        "oidc": {"issuer_url": "https://login.example.com/realms/ml", "client_id": "mlops"},
    }
    comps["ingress"] = {"domain": "ml.example.com", "class_name": "alb"}
    comps["cert_manager"] = {"acme_email": "platform@example.com"}
    values["config"]["mlops-platform:oidcClientSecret"] = {"secure": "v1:offline"}
    path = Path(tmp_dir) / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(values))
    return plan_environment("dev", ROOT, config_file=path)


def objects(p: dict[str, Any]) -> list[dict[str, Any]]:
    """Kubernetes objects (not Helm releases) the plan declares, as manifests."""
    return [obj for name, obj in kubernetes_objects(p) if not name.startswith("helm-")]


def releases(p: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {obj["name"]: obj for name, obj in kubernetes_objects(p) if name.startswith("helm-")}


def find(p: dict[str, Any], kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    for obj in objects(p):
        meta = obj["metadata"]
        if obj["kind"] == kind and meta["name"] == name and meta.get("namespace") == namespace:
            return obj
    raise AssertionError(f"no {kind} {namespace}/{name} in the plan")
