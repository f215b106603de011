"""Build plan-shaped resources and run single policies through the offline runner."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from policies.offline import evaluate
from policies.rules import ALL_POLICIES

STACK = "prod"
BY_NAME = {p.name: p for p in ALL_POLICIES}
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def secret(value: Any) -> dict[str, Any]:
    """A secret input as the plan hands it to the pack (the rules see ``value``)."""
    return {SIG_KEY: SECRET_SIG, "value": value}


def unseen(path: str) -> str:
    """The violation of a rule that read a ``[secret]`` placeholder at ``path``."""
    return (
        f"Could not see {path}: a secret the plan shows only as [secret] (a `secure:` "
        "stack config value, which the offline plan cannot decrypt); the rule cannot "
        "decide without it."
    )


def urn(type_: str, name: str, parent_type: str | None = None) -> str:
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{STACK}::proj::{qualified}::{name}"


def res(
    type_: str,
    name: str,
    inputs: dict[str, Any],
    *,
    parent: dict[str, Any] | None = None,
    deps: dict[str, list[dict[str, Any]]] | None = None,
    provider: str | None = None,
) -> dict[str, Any]:
    """One resource as `mlops plan --json` lists it."""
    out: dict[str, Any] = {
        "urn": urn(type_, name, parent["type"] if parent else None),
        "type": type_,
        "name": name,
        "parent": parent["urn"] if parent else None,
        "custom": not type_.startswith("mlops:"),
        "inputs": inputs,
        "dependencies": sorted({d["urn"] for ds in (deps or {}).values() for d in ds}),
        "propertyDependencies": {k: [d["urn"] for d in v] for k, v in (deps or {}).items()},
        "protect": False,
    }
    if provider:
        out["provider"] = provider
    return out


def run(
    policy: str, resources: list[dict[str, Any]], config: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Violations of one policy (at mandatory unless configured) over ``resources``."""
    pack_config = {policy: {"enforcementLevel": "mandatory", **(config or {})}}
    result = evaluate(
        {"environment": STACK, "config": pack_config, "resources": resources}, [BY_NAME[policy]]
    )
    return list(result["violations"])


def messages(
    policy: str, resources: list[dict[str, Any]], config: dict[str, Any] | None = None
) -> list[str]:
    """Just the messages, for asserting on."""
    return [v["message"] for v in run(policy, resources, config)]


def mutated(
    base: list[dict[str, Any]], change: Callable[[list[dict[str, Any]]], Any]
) -> list[dict[str, Any]]:
    """A deep copy of ``base`` with ``change`` applied (one changed field per failing case)."""
    copied = copy.deepcopy(base)
    change(copied)
    return copied


def find(
    resources: list[dict[str, Any]], type_suffix: str, name: str | None = None
) -> dict[str, Any]:
    """The resource whose type ends with ``type_suffix`` (and has ``name``)."""
    for r in resources:
        if r["type"].endswith(type_suffix) and (name is None or r["name"] == name):
            return r
    raise KeyError(type_suffix)
